import { formatBytes } from '../util/bytes.js';
import type { OrphanTemps } from '../wal/orphans.js';
import type { HealthCheck } from './status.js';

/**
 * Temp files a killed wal-push left in the archive. They hold no archived data (a segment counts
 * as archived only once renamed into place) but say a push died mid-copy — a full disk, an OOM
 * kill, a machine that went down — so they are a warning, not a crisis. Pushes remove the ones
 * old enough to belong to no running push; none when nothing was left.
 */
export function orphanTempCheck(o: OrphanTemps, now: number): HealthCheck | undefined {
  if (o.count === 0) return undefined;
  const mins = o.oldest === undefined ? undefined : Math.round((now - o.oldest) / 60_000);
  return {
    name: 'archive temp files',
    status: 'WARN',
    reason:
      `${o.count} temp file${o.count === 1 ? '' : 's'} (${formatBytes(o.bytes)}) left in the WAL archive by wal-push runs that were killed` +
      `${mins === undefined ? '' : `, the oldest ${mins} min ago`}; no archived segment is affected — find why the push died (disk full, OOM), the next pushes remove them.`,
  };
}
