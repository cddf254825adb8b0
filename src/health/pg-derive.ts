import { formatDuration } from '../config/duration.js';
import type { HealthThresholds } from '../config/health-settings.js';
import { formatBytes } from '../util/bytes.js';
import { fullInSeconds, type DiskView } from './local-disk.js';
import { findArchiveEvidence, progressPoint, walGrowth, type ArchiveEvidence, type WalGrowth } from './pg-evidence.js';
import type { PgSample } from './pg-sample.js';
import type { StreamView } from './pg-slot-types.js';
import { fullInWords, rateWords } from './words.js';
import { levelOf, type HealthCheck, type HealthStatus } from './status.js';

export type { ArchiveEvidence, WalGrowth } from './pg-evidence.js';

/**
 * How much committed work would be lost if the server vanished now, as far as the archive can
 * tell. `seconds` is null when it cannot be bounded (nothing archived yet, archive_timeout off).
 */
export interface RpoEstimate {
  seconds: number | null;
  /**
   * backlog: segments wait to be archived, the oldest unarchived change is about as old as the
   * last successful archive; archive_timeout: only the open segment is unarchived and
   * archive_timeout closes it in time; open-segment: only the open segment is unarchived but
   * nothing forces it closed (archive_timeout = 0); none: archiving is off.
   */
  basis: 'backlog' | 'archive_timeout' | 'open-segment' | 'none' | 'stream';
  text: string;
}

/** What the console's health panel and the CLI show about PostgreSQL archiving. */
export interface PgArchiveView {
  at: string;
  archiveMode: string;
  archiveTimeoutSeconds: number;
  currentWal: string | null;
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedTime: string | null;
  /** Seconds since the last segment was archived successfully. */
  lastSuccessAgeSeconds: number | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedTime: string | null;
  /** The latest attempt failed (a failure newer than the last success). */
  failingNow: boolean;
  /** Files waiting for the archiver (*.ready). */
  backlog: number;
  oldestReady: string | null;
  /** How long the oldest waiting file has waited. */
  oldestReadyAgeSeconds: number | null;
  /** While something waits: how long the archiver has made no progress (null when nothing waits). */
  stallSeconds: number | null;
  /** …and since when (ISO). */
  stalledSince: string | null;
  /** Bytes of the files waiting. */
  backlogBytes: number;
  /** The archiver process; null when none runs. */
  archiver: PgSample['archiver'];
  /** Definite evidence that archiving is broken, not slow (empty: none); any of it is CRIT. */
  evidence: ArchiveEvidence[];
  broken: boolean;
  /**
   * Files wait and nothing has moved since, yet nothing proves a fault and the stall is shorter than
   * archiveStall: only another look tells a segment being copied from a hung command.
   */
  unresolved: boolean;
  /** How fast WAL is written: while archiving is broken, pg_wal grows that fast. */
  walGrowth: WalGrowth;
  /** The disk holding pg_wal (or why it cannot be seen from here). */
  walDisk: DiskView | null;
  /** At walGrowth's rate, seconds until that disk is full. */
  diskFullInSeconds: number | null;
  walBytes: number;
  /** The series the rates come from: the samples since the statistics were last reset. */
  window: { seconds: number; samples: number; archived: number; failed: number; backlogDelta: number };
  /** Segments archived per minute over the window (null with a single sample). */
  ratePerMinute: number | null;
  backlogGrowthPerMinute: number | null;
  rpo: RpoEstimate;
  /** The target's `dbdrill stream` (its slot exists), src/health/pg-slots.ts. */
  stream?: StreamView;
}

export interface PgDerived {
  view: PgArchiveView;
  checks: HealthCheck[];
}

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));
const ageOf = (nowMs: number, iso: string | null): number | null => {
  const t = ms(iso);
  return t === null ? null : Math.max(0, (nowMs - t) / 1000);
};
const ago = (seconds: number | null) => (seconds === null ? 'never' : `${formatDuration(seconds)} ago`);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The samples the counters can be compared across: after a pg_stat_reset_shared('archiver'), a
 * server restart that lost the counters, or a switch to another server, older samples no longer
 * subtract meaningfully, so the window starts again there.
 */
export function counterWindow(series: readonly PgSample[]): PgSample[] {
  let start = 0;
  for (let i = 1; i < series.length; i++) {
    const a = series[i - 1]!;
    const b = series[i]!;
    if (b.systemId !== a.systemId || b.statsReset !== a.statsReset || b.archivedCount < a.archivedCount || b.failedCount < a.failedCount) {
      start = i;
    }
  }
  return series.slice(start);
}

export function archivingEnabled(s: PgSample): boolean {
  return s.archiveMode !== 'off' && (s.archiveLibrary !== '' || (s.archiveCommand !== '' && s.archiveCommand !== '(disabled)'));
}

/**
 * Derives archive health from a series of samples (oldest first; at least one). Pure: the same
 * series always gives the same verdict, which is what the unit tests feed it.
 *
 * Broken is told from slow: definite evidence of a fault (pg-evidence.ts: a failed attempt, no or
 * a restarted archiver process, no progress for archiveStall) is CRIT at once, with what is at
 * risk in words. Only an archiver that works but falls behind is graded by the age of the oldest
 * .ready file (archiveWarn/archiveCrit).
 */
export function derivePgArchive(series: readonly PgSample[], th: HealthThresholds, opts: { rpoSeconds?: number; rpo?: RpoEstimate } = {}): PgDerived {
  const s = series.at(-1);
  if (!s) throw new Error('derivePgArchive needs at least one sample');
  const now = Date.parse(s.at);
  const win = counterWindow(series);
  const first = win[0]!;
  const windowSeconds = (now - Date.parse(first.at)) / 1000;
  const perMinute = (delta: number) => (windowSeconds > 0 ? (delta * 60) / windowSeconds : null);

  const lastArchivedMs = ms(s.lastArchivedTime);
  const lastFailedMs = ms(s.lastFailedTime);
  const failingNow = lastFailedMs !== null && (lastArchivedMs === null || lastFailedMs > lastArchivedMs);
  const oldestReadyAge = s.readyCount > 0 ? ageOf(now, s.oldestReadyTime) : null;
  const progress = progressPoint(s);
  const stallSeconds = progress === null ? null : Math.max(0, (now - progress) / 1000);
  const checked = archivingEnabled(s) && !(s.inRecovery && s.archiveMode !== 'always');
  const evidence = checked ? findArchiveEvidence(series, th.archiveStallSeconds) : [];
  const growth = walGrowth(series);

  const window = {
    seconds: windowSeconds,
    samples: win.length,
    archived: s.archivedCount - first.archivedCount,
    failed: s.failedCount - first.failedCount,
    backlogDelta: s.readyCount - first.readyCount,
  };
  const rpo = opts.rpo ?? estimateRpo(s, now);
  const view: PgArchiveView = {
    at: s.at,
    archiveMode: s.archiveMode,
    archiveTimeoutSeconds: s.archiveTimeoutSeconds,
    currentWal: s.currentWal,
    archivedCount: s.archivedCount,
    lastArchivedWal: s.lastArchivedWal,
    lastArchivedTime: s.lastArchivedTime,
    lastSuccessAgeSeconds: ageOf(now, s.lastArchivedTime),
    failedCount: s.failedCount,
    lastFailedWal: s.lastFailedWal,
    lastFailedTime: s.lastFailedTime,
    failingNow,
    backlog: s.readyCount,
    oldestReady: s.readyCount > 0 ? s.oldestReady : null,
    oldestReadyAgeSeconds: oldestReadyAge,
    stallSeconds,
    stalledSince: progress === null ? null : new Date(progress).toISOString(),
    backlogBytes: s.readyBytes,
    archiver: s.archiver,
    evidence,
    broken: evidence.length > 0,
    unresolved: checked && s.readyCount > 0 && evidence.length === 0 && (stallSeconds ?? 0) < th.archiveStallSeconds,
    walGrowth: growth,
    walDisk: s.walDisk ?? null,
    diskFullInSeconds: fullInSeconds(s.walDisk, growth.bytesPerSecond),
    walBytes: s.walBytes,
    window,
    ratePerMinute: perMinute(window.archived),
    backlogGrowthPerMinute: perMinute(window.backlogDelta),
    rpo,
  };
  return { view, checks: [archivingCheck(series, view, th), rpoCheck(view, opts.rpoSeconds)] };
}

function archivingCheck(series: readonly PgSample[], v: PgArchiveView, th: HealthThresholds): HealthCheck {
  const s = series.at(-1)!;
  const check = (status: HealthStatus, reason: string): HealthCheck => ({ name: 'archiving', status, reason });
  // Without archiving there is no point-in-time recovery, which is what a target in dbdrill is
  // for: that is critical, not a warning (a logical dump alone loses everything since the dump).
  if (s.archiveMode === 'off') {
    return check('CRIT', 'archive_mode is off: no WAL is archived, so this server cannot be restored to a point in time; set archive_mode = on and an archive_command (needs a restart).');
  }
  if (s.inRecovery && s.archiveMode !== 'always') {
    return check('OK', `This server is a standby with archive_mode=${s.archiveMode}: its primary archives the WAL.`);
  }
  if (!archivingEnabled(s)) {
    return check('CRIT', `archive_mode is on but archive_command is empty: completed WAL segments pile up in pg_wal (${plural(s.readyCount, 'file')} waiting); set archive_command.`);
  }
  const last = s.lastArchivedWal ? `last archived ${s.lastArchivedWal} ${ago(v.lastSuccessAgeSeconds)}` : 'nothing archived yet';
  if (s.readyCount === 0) {
    if (v.failingNow) {
      return check('WARN', `The last archive attempt (${s.lastFailedWal}) failed ${ago(ageOf(Date.parse(s.at), s.lastFailedTime))} though nothing waits now; ${last}.`);
    }
    return check('OK', `Nothing waits to be archived; ${last}.`);
  }

  const age = v.oldestReadyAgeSeconds ?? 0;
  const waiting = `${plural(s.readyCount, 'file')} wait${s.readyCount === 1 ? 's' : ''} to be archived, the oldest (${s.oldestReady}) for ${formatDuration(age)}`;
  const grew = v.window.samples > 1 && v.window.backlogDelta > 0 ? `; the backlog grew by ${v.window.backlogDelta} in ${formatDuration(v.window.seconds)}` : '';

  if (v.broken) return check('CRIT', `${brokenCause(series, v, waiting, last, grew)} ${atRisk(v)}`);
  const status = levelOf(age, th.archiveWarnSeconds, th.archiveCritSeconds);
  if (status !== 'OK') {
    const rate = v.ratePerMinute !== null ? ` at ${v.ratePerMinute.toFixed(1)} segments/min` : '';
    return check(status, `Archiving falls behind: ${waiting}; ${last}${rate}${grew}.`);
  }
  return check('OK', `${capital(waiting)}; ${last}.`);
}

/** The first sentence of a broken archiver's reason: which evidence, since when. */
function brokenCause(series: readonly PgSample[], v: PgArchiveView, waiting: string, last: string, grew: string): string {
  const s = series.at(-1)!;
  const failing = v.evidence.find((e) => e.kind === 'failing');
  if (failing) {
    const rose = failing.rose !== null && failing.rose > 0 && failing.overSeconds !== null ? `, up ${failing.rose} in ${formatDuration(failing.overSeconds)}` : '';
    return `archive_command fails: ${failing.wal} failed ${ago(ageOf(Date.parse(s.at), failing.at))} (failed_count ${failing.failedCount}${rose}); ${waiting}; ${last}${grew}.`;
  }
  const stall = formatDuration(v.stallSeconds ?? 0);
  const unchanged = quietSince(series, Date.parse(v.stalledSince ?? s.at));
  const stayed = unchanged > 0 ? ` (failed_count stayed at ${s.failedCount} over the last ${formatDuration(unchanged)} of samples)` : '';
  const exitsAbove125 = 'archive_command probably exits above 125 or is killed by a signal, which makes the archiver exit before it counts the failure';
  let cause: string;
  const down = v.evidence.find((e) => e.kind === 'archiver-down');
  const restarted = v.evidence.find((e) => e.kind === 'archiver-restarted');
  const stalled = v.evidence.find((e) => e.kind === 'stalled');
  if (down) {
    const seen = down.since !== s.at ? ` (none seen since ${clock(down.since)})` : '';
    cause = `no archiver process runs${seen}: ${exitsAbove125}`;
  } else if (restarted) {
    cause = `the archiver process exited ${restarted.exits === 1 ? 'once' : `${restarted.exits} times`} since ${clock(restarted.since)} (pid ${restarted.pids.join(' → ')}): ${exitsAbove125}`;
  } else if (stalled?.inCommand) {
    cause = `the archiver is still inside archive_command (wait event ArchiveCommand): archive_command probably hangs (a stuck mount, network or lock)`;
  } else {
    cause = 'archive_command probably exits above 125, is killed by a signal or hangs (the archiver restarts instead of counting it)';
  }
  return `Nothing archived for ${stall} while ${waiting}, yet pg_stat_archiver counts no failure${stayed}: ${cause}; see the server log. ${capital(last)}${grew}.`;
}

/** What a broken archiver puts at risk, in words: the backlog, pg_wal's growth, the disk. */
function atRisk(v: PgArchiveView): string {
  const parts = [`${plural(v.backlog, 'file')} (${formatBytes(v.backlogBytes)}) wait${v.backlog === 1 ? 's' : ''} since ${clock(v.stalledSince)}`];
  const rate = v.walGrowth.bytesPerSecond;
  if (rate === null) parts.push('how fast pg_wal grows cannot be told yet (one sample)');
  else parts.push(`pg_wal grows with the WAL written, ${rateWords(rate)}`);
  const disk = v.walDisk;
  if (!disk) parts.push('whether the disk holding pg_wal fills cannot be told');
  else if ('unknown' in disk) parts.push(`when the disk holding pg_wal is full cannot be told: ${disk.unknown}`);
  else {
    const left = `the disk holding pg_wal (${disk.path}) has ${formatBytes(disk.freeBytes)} free`;
    parts.push(v.diskFullInSeconds !== null ? `${left}: full in ${fullInWords(v.diskFullInSeconds)} at that rate` : left);
  }
  return `${capital(parts.join('; '))}.`;
}

/** HH:MM:SSZ of an ISO time (the day is today's on every screen that shows it). */
function clock(iso: string | null): string {
  return iso === null ? '—' : `${iso.slice(11, 19)}Z`;
}

/**
 * Seconds of samples, since `sinceMs`, over which neither archived_count nor failed_count moved:
 * the series' own evidence for the blind spot (0 when there are not two such samples).
 */
export function quietSince(series: readonly PgSample[], sinceMs: number): number {
  const last = series.at(-1)!;
  let i = series.length - 1;
  while (i > 0) {
    const prev = series[i - 1]!;
    if (Date.parse(prev.at) < sinceMs || prev.systemId !== last.systemId) break;
    if (prev.failedCount !== last.failedCount || prev.archivedCount !== last.archivedCount) break;
    i--;
  }
  return (Date.parse(last.at) - Date.parse(series[i]!.at)) / 1000;
}

function rpoCheck(v: PgArchiveView, rpoSeconds: number | undefined): HealthCheck {
  const check = (status: HealthStatus, reason: string): HealthCheck => ({ name: 'rpo', status, reason });
  if (rpoSeconds === undefined || v.rpo.basis === 'none') return check('OK', v.rpo.text);
  if (v.rpo.basis === 'open-segment') {
    return check('WARN', `${v.rpo.text} The target's RPO is ${formatDuration(rpoSeconds)}: set archive_timeout to at most that.`);
  }
  if (v.rpo.basis === 'archive_timeout' && v.archiveTimeoutSeconds > rpoSeconds) {
    return check('WARN', `${v.rpo.text} archive_timeout (${formatDuration(v.archiveTimeoutSeconds)}) is longer than the target's RPO of ${formatDuration(rpoSeconds)}.`);
  }
  if (v.rpo.seconds !== null && v.rpo.seconds > rpoSeconds) {
    return check('WARN', `${v.rpo.text} That exceeds the target's RPO of ${formatDuration(rpoSeconds)}.`);
  }
  return check('OK', `${v.rpo.text} Within the target's RPO of ${formatDuration(rpoSeconds)}.`);
}

/**
 * With a backlog, the oldest unarchived change is at least as old as the oldest .ready file and
 * roughly as old as the last successful archive (the waiting segment began filling about when its
 * predecessor was archived). Without one, only the open segment is at risk: archive_timeout bounds
 * its age; with archive_timeout = 0 a quiet server can keep changes there indefinitely.
 */
export function estimateRpo(s: PgSample, now = Date.parse(s.at)): RpoEstimate {
  if (!archivingEnabled(s)) return { seconds: null, basis: 'none', text: 'No RPO: WAL is not archived.' };
  if (s.readyCount > 0) {
    const starts = [ms(s.lastArchivedTime), ms(s.oldestReadyTime)].filter((x): x is number => x !== null);
    const seconds = starts.length ? Math.max(0, (now - Math.min(...starts)) / 1000) : null;
    return {
      seconds,
      basis: 'backlog',
      text: seconds === null ? 'Changes since the start are not archived yet.' : `About ${formatDuration(seconds)} of changes are not archived yet.`,
    };
  }
  const sinceLast = ageOf(now, s.lastArchivedTime);
  if (s.archiveTimeoutSeconds > 0) {
    const seconds = sinceLast === null ? s.archiveTimeoutSeconds : Math.min(sinceLast, s.archiveTimeoutSeconds);
    return { seconds, basis: 'archive_timeout', text: `At most ${formatDuration(seconds)}: only the open WAL segment is unarchived and archive_timeout (${formatDuration(s.archiveTimeoutSeconds)}) closes it.` };
  }
  return {
    seconds: sinceLast,
    basis: 'open-segment',
    text: `Only the open WAL segment is unarchived, but archive_timeout is 0, so it is archived only when full${sinceLast === null ? '' : ` (up to ${formatDuration(sinceLast)} of changes on a quiet server)`}.`,
  };
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
