import type { ReactNode } from 'react';
import { useScreenContext } from '../keys/ScreenKeys.js';
import { NotBuilt } from '../widgets/NotBuilt/NotBuilt.js';

export function DrillScreen(): ReactNode {
  const name = useScreenContext().target ?? 'NAME';
  return <NotBuilt line={`Restore drills (restore to a scratch instance, verify, time RTO/RPO) are not built yet; run \`dbdrill drill ${name}\` meanwhile.`} />;
}
