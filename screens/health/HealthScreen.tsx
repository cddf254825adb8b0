import type { ReactNode } from 'react';
import { useScreenContext } from '../keys/ScreenKeys.js';
import { NotBuilt } from '../widgets/NotBuilt/NotBuilt.js';

export function HealthScreen(): ReactNode {
  const name = useScreenContext().target ?? 'NAME';
  return <NotBuilt line={`Archiver health (WAL/binlog archiving, backlog, last segment age) is not built yet; run \`dbdrill health ${name}\` meanwhile.`} />;
}
