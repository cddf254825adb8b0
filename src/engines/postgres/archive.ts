import type { EngineArchive } from '../contract.js';
import { segmentName, segmentOfLsn } from '../../pitr/wal-names.js';
import { removeWal, walBelow, walPosition } from '../../wal/prune.js';

/**
 * PostgreSQL's archive in the repository: WAL segments, positioned by log and segment number (the
 * name without its timeline), so plain string order is archive order.
 */
export const pgArchive: EngineArchive = {
  filesBelow: (repo, position) => walBelow(repo, position),
  remove: (repo, names) => removeWal(repo, names),
  compare: (a, b) => a.localeCompare(b),
  pitrStart(m) {
    const pg = m.postgres;
    if (m.kind !== 'physical' || !pg?.consistentAt || !pg.startLsn) return undefined;
    return { pitrFrom: pg.consistentAt, archiveFrom: walPosition(segmentName(segmentOfLsn(pg.timeline ?? 1, pg.startLsn))) };
  },
  closesOnTimer: true,
};
