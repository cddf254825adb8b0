import type { TargetRow } from '../api.js';
import type { Column } from '../widgets/DataTable/DataTable.js';
import { markerColor } from '../widgets/StatusMarker/StatusMarker.js';

const UNKNOWN = '—';

export const TARGET_COLUMNS: readonly Column<TargetRow>[] = [
  { header: 'name', flex: 2, minWidth: 8, value: (r) => r.name },
  { header: 'engine', width: 8, value: (r) => r.engine },
  // Cut from the start when narrow: the port tells targets on one host apart.
  { header: 'host:port', flex: 3, minWidth: 10, cut: 'start', value: (r) => `${r.host}:${r.port}` },
  { header: 'newest backup', width: 13, value: (r) => r.newestBackupAge ?? UNKNOWN },
  {
    header: 'archiver',
    width: 9,
    value: (r) => r.archiver ?? UNKNOWN,
    color: (r) => (r.archiver === 'no answer' ? 'yellow' : r.archiver && r.archiver !== '?' ? markerColor(r.archiver) : undefined),
  },
  { header: 'window', flex: 2, minWidth: 6, value: (r) => r.window ?? UNKNOWN },
];
