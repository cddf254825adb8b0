import type { ReactNode } from 'react';
import { useScreenContext } from '../keys/ScreenKeys.js';
import { NotBuilt } from '../widgets/NotBuilt/NotBuilt.js';

export function RestoreScreen(): ReactNode {
  const name = useScreenContext().target ?? 'NAME';
  return <NotBuilt line={`Restore-to-time (pick a moment in the recoverable window) is not built yet; run \`dbdrill restore ${name} --to TIME --into DIR --port P\` meanwhile.`} />;
}
