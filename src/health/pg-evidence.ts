import { parseSegment } from '../pitr/wal-names.js';
import type { PgSample } from './pg-sample.js';

/**
 * Definite evidence that PostgreSQL's archiving is broken rather than slow, each found in the
 * samples alone (pure functions). Any one of them is CRIT at once; the age thresholds are left
 * for an archiver that works but falls behind.
 *
 * - failing: the latest attempt failed (last_failed_time is newer than last_archived_time).
 * - archiver-down: no archiver process although archive_mode is on. It exits (FATAL) when
 *   archive_command exits above 125 or dies from a signal, before pg_stat_archiver counts
 *   anything, and the postmaster starts a new one only when its loop next wakes.
 * - archiver-restarted: the archiver's pid changed (or it vanished) while the same files waited
 *   and nothing was archived: the same blind spot, caught between two samples.
 * - stalled: nothing archived for archiveStall while files wait, whatever the cause — the only
 *   sign of a hung archive_command (the archiver sits in wait event ArchiveCommand).
 */
export type ArchiveEvidence =
  | { kind: 'failing'; wal: string; at: string; failedCount: number; rose: number | null; overSeconds: number | null }
  | { kind: 'archiver-down'; since: string }
  | { kind: 'archiver-restarted'; exits: number; since: string; pids: number[] }
  | { kind: 'stalled'; seconds: number; inCommand: boolean };

const ms = (iso: string | null | undefined): number | null => (iso ? Date.parse(iso) : null);

/** A server may not have started its archiver in its first moments; no verdict on those. */
const STARTUP_GRACE_MS = 5_000;

/**
 * When archiving last made progress, as far as the server can tell: the later of the last
 * successful archive, the moment the oldest waiting file became ready (a segment closed a second
 * ago after a quiet day has not stalled), a statistics reset and the server's start (a new archiver
 * gets its chance). null when nothing waits.
 */
export function progressPoint(s: PgSample): number | null {
  if (s.readyCount === 0) return null;
  const points = [ms(s.lastArchivedTime), ms(s.oldestReadyTime), ms(s.statsReset), ms(s.postmasterStart)].filter((x): x is number => x !== null);
  return points.length ? Math.max(...points) : Date.parse(s.at);
}

/** The samples of the same running server as the last one (a restart or another server ends it). */
function sameServer(series: readonly PgSample[]): PgSample[] {
  const last = series.at(-1)!;
  let i = series.length - 1;
  while (i > 0 && series[i - 1]!.systemId === last.systemId && series[i - 1]!.postmasterStart === last.postmasterStart) i--;
  return series.slice(i);
}

export function findArchiveEvidence(series: readonly PgSample[], stallLimitSeconds: number): ArchiveEvidence[] {
  const s = series.at(-1)!;
  if (s.readyCount === 0) return [];
  const now = Date.parse(s.at);
  const evidence: ArchiveEvidence[] = [];
  const run = sameServer(series);
  const since = progressPoint(s)!;
  // Samples taken while nothing moved: same archived_count, taken after the progress point.
  const quiet = run.filter((x) => Date.parse(x.at) >= since && x.archivedCount === s.archivedCount);

  const lastArchived = ms(s.lastArchivedTime);
  const lastFailed = ms(s.lastFailedTime);
  if (lastFailed !== null && (lastArchived === null || lastFailed > lastArchived) && s.lastFailedWal) {
    // How much failed_count rose while nothing moved (null from one sample).
    const first = quiet.find((x) => x.statsReset === s.statsReset && x.failedCount <= s.failedCount);
    const seen = first !== undefined && first !== s;
    evidence.push({
      kind: 'failing',
      wal: s.lastFailedWal,
      at: s.lastFailedTime!,
      failedCount: s.failedCount,
      rose: seen ? s.failedCount - first.failedCount : null,
      overSeconds: seen ? (now - Date.parse(first.at)) / 1000 : null,
    });
  }

  const upLongEnough = now - Date.parse(s.postmasterStart) >= STARTUP_GRACE_MS;
  if (s.archiver === null && upLongEnough && !s.inRecovery) {
    let i = run.length - 1;
    while (i > 0 && run[i - 1]!.archiver === null) i--;
    evidence.push({ kind: 'archiver-down', since: run[i]!.at });
  }

  // Exits seen between quiet samples: a pid that vanished or was replaced.
  let exits = 0;
  const pids: number[] = [];
  for (let i = 0; i < quiet.length; i++) {
    const a = quiet[i]!.archiver;
    if (a && pids.at(-1) !== a.pid) pids.push(a.pid);
    const b = quiet[i + 1]?.archiver;
    if (i + 1 < quiet.length && a && (b === null || b === undefined || b.pid !== a.pid)) exits++;
  }
  if (exits > 0) evidence.push({ kind: 'archiver-restarted', exits, since: quiet[0]!.at, pids });

  const stall = (now - since) / 1000;
  if (stall >= stallLimitSeconds) evidence.push({ kind: 'stalled', seconds: stall, inCommand: s.archiver?.waitEvent === 'ArchiveCommand' });
  return evidence;
}

/** How fast WAL is written, which is how fast pg_wal grows while nothing can be archived. */
export interface WalGrowth {
  bytesPerSecond: number | null;
  /** lsn: pg_current_wal_lsn() across the samples; backlog: the WAL written since the oldest waiting segment closed. */
  basis: 'lsn' | 'backlog' | null;
}

const MIN_RATE_SPAN_MS = 5_000;
const MAX_RATE_SPAN_MS = 10 * 60_000;

export function walGrowth(series: readonly PgSample[]): WalGrowth {
  const s = series.at(-1)!;
  if (s.walLsnBytes === null) return { bytesPerSecond: null, basis: null };
  const now = Date.parse(s.at);
  const first = sameServer(series).find((x) => x.walLsnBytes !== null && now - Date.parse(x.at) <= MAX_RATE_SPAN_MS);
  if (first && now - Date.parse(first.at) >= MIN_RATE_SPAN_MS) {
    return { bytesPerSecond: Math.max(0, (s.walLsnBytes - first.walLsnBytes!) / ((now - Date.parse(first.at)) / 1000)), basis: 'lsn' };
  }
  // One sample: every byte written since the oldest waiting segment closed is still unarchived.
  const seg = s.oldestReady ? parseSegment(s.oldestReady, s.walSegmentBytes) : undefined;
  const closed = ms(s.oldestReadyTime);
  if (seg && closed !== null && now - closed >= MIN_RATE_SPAN_MS) {
    const written = s.walLsnBytes - (seg.segNo + 1) * s.walSegmentBytes;
    if (written >= 0) return { bytesPerSecond: written / ((now - closed) / 1000), basis: 'backlog' };
  }
  return { bytesPerSecond: null, basis: null };
}
