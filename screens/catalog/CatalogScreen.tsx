import type { ReactNode } from 'react';
import { useScreenContext } from '../keys/ScreenKeys.js';
import { NotBuilt } from '../widgets/NotBuilt/NotBuilt.js';

export function CatalogScreen(): ReactNode {
  const name = useScreenContext().target ?? 'NAME';
  return <NotBuilt line={`The backup catalog (every backup, newest first) arrives with \`dbdrill backup\`; run \`dbdrill catalog ${name}\` meanwhile.`} />;
}
