import { formatDuration } from '../config/duration.js';
import type { HealthThresholds } from '../config/health-settings.js';
import { formatBytes } from '../util/bytes.js';
import { parseBinlogName } from './binlog-archive.js';
import { syncSchedule, type BinlogSyncRun } from './binlog-sync-runs.js';
import { fullInSeconds, type DiskView } from './local-disk.js';
import { binlogGrowth, findBinlogEvidence, lastSyncRun, type BinlogEvidence } from './mysql-evidence.js';
import type { MysqlSample } from './mysql-sample.js';
import { fullInWords, rateWords } from './words.js';

export type { BinlogEvidence } from './mysql-evidence.js';
import { levelOf, type HealthCheck, type HealthStatus } from './status.js';

/** What the console's health panel and the CLI show about binlog archiving. */
export interface BinlogView {
  at: string;
  logBin: boolean;
  binlogFormat: string;
  /** The binlog the server writes now, and how far. */
  currentBinlog: string | null;
  currentBytes: number | null;
  serverBinlogs: number;
  oldestOnServer: string | null;
  archiveDir: string;
  archivePresent: boolean;
  archivedCount: number;
  newestArchived: string | null;
  newestArchivedTime: string | null;
  newestArchivedAgeSeconds: number | null;
  /** Closed binlogs still on the server but not archived (the MySQL .ready backlog). */
  pending: string[];
  /** Their bytes on the server. */
  pendingBytes: number;
  /** binlog-sync's newest recorded run, and how often it is meant to run (null: unknown). */
  lastSync: BinlogSyncRun | null;
  syncSchedule: { everySeconds: number; basis: 'configured' | 'learned' } | null;
  /** Definite evidence that archiving is broken, not slow (empty: none). */
  evidence: BinlogEvidence[];
  broken: boolean;
  /** Bytes of binlog the server writes per second (null from one sample). */
  binlogGrowthBytesPerSecond: number | null;
  /** The disk holding the binlogs, and when it is full at that rate. */
  binlogDisk: DiskView | null;
  diskFullInSeconds: number | null;
  /** True when the archive holds the current file but fewer bytes (a live stream that stopped). */
  currentBehind: boolean;
  /** Binlogs purged from the server before being archived: the archive has a hole. */
  gap: { from: string; to: string } | null;
  /** Since when the archive has been behind, as far as the series shows (null: unknown/not behind). */
  behindSince: string | null;
  window: { seconds: number; samples: number; backlogDelta: number };
}

export interface MysqlDerived {
  view: BinlogView;
  checks: HealthCheck[];
}

const seqName = (base: string, seq: number, width: number) => `${base}.${String(seq).padStart(width, '0')}`;

/** The archive's view of one sample, without the series (used per sample by derive). */
function snapshot(s: MysqlSample) {
  const current = s.binlogs.at(-1);
  const cur = current ? parseBinlogName(current.name) : undefined;
  const width = current ? (/\.(\d+)$/.exec(current.name)?.[1]?.length ?? 6) : 6;
  // Only archived files of the base name the server writes now count; another base name is
  // another server's (or an older configuration's) binlogs.
  const newest = cur ? s.archive.newest.find((n) => n.base === cur.base) : s.archive.newest.toSorted((a, b) => b.mtime.localeCompare(a.mtime))[0];
  const closed = s.binlogs.slice(0, -1);
  const pending = newest ? closed.filter((b) => (parseBinlogName(b.name)?.seq ?? -1) > newest.seq).map((b) => b.name) : [];
  const compressed = newest ? newest.name !== seqName(newest.base, newest.seq, width) : false;
  const currentBehind = !!(newest && cur && current && newest.seq === cur.seq && !compressed && newest.bytes < current.bytes);
  let gap: BinlogView['gap'] = null;
  const oldest = s.binlogs[0] ? parseBinlogName(s.binlogs[0].name) : undefined;
  if (newest && oldest && cur && oldest.seq > newest.seq + 1) {
    gap = { from: seqName(cur.base, newest.seq + 1, width), to: seqName(cur.base, oldest.seq - 1, width) };
  }
  return { current, newest, pending, currentBehind, gap };
}

/**
 * Derives binlog archive health from a series of samples (oldest first; at least one). Pure.
 *
 * When the archive is behind, its lag is measured from the newest archived file's mtime, unless
 * the series saw the archive catch up and fall behind again later: a quiet server that rotates
 * its binlog once a day must not look a day late the moment it rotates.
 */
export function deriveMysqlBinlog(series: readonly MysqlSample[], th: HealthThresholds): MysqlDerived {
  // (Evidence of a broken binlog-sync — a failed or overdue run — is CRIT at once while closed
  // binlogs wait; the lag thresholds below are for a binlog-sync that runs but falls behind.)
  const s = series.at(-1);
  if (!s) throw new Error('deriveMysqlBinlog needs at least one sample');
  const now = Date.parse(s.at);
  const snap = snapshot(s);
  const backlogOf = (x: ReturnType<typeof snapshot>) => x.pending.length + (x.currentBehind ? 1 : 0);
  const backlog = backlogOf(snap);

  let behindSince: string | null = null;
  if (backlog > 0) {
    let i = series.length - 1;
    while (i > 0 && backlogOf(snapshot(series[i - 1]!)) > 0) i--;
    if (i > 0) behindSince = series[i]!.at;
  }
  const first = series[0]!;
  const evidence = s.logBin ? findBinlogEvidence(s, th.binlogSyncEverySeconds) : [];
  const growth = binlogGrowth(series);
  const view: BinlogView = {
    at: s.at,
    logBin: s.logBin,
    binlogFormat: s.binlogFormat,
    currentBinlog: snap.current?.name ?? null,
    currentBytes: snap.current?.bytes ?? null,
    serverBinlogs: s.binlogs.length,
    oldestOnServer: s.binlogs[0]?.name ?? null,
    archiveDir: s.archive.dir,
    archivePresent: s.archive.present,
    archivedCount: s.archive.count,
    newestArchived: snap.newest?.name ?? null,
    newestArchivedTime: snap.newest?.mtime ?? null,
    newestArchivedAgeSeconds: snap.newest ? Math.max(0, (now - Date.parse(snap.newest.mtime)) / 1000) : null,
    pending: snap.pending,
    pendingBytes: s.binlogs.filter((b) => snap.pending.includes(b.name)).reduce((n, b) => n + b.bytes, 0),
    lastSync: lastSyncRun(s) ?? null,
    syncSchedule: syncSchedule(s.sync ?? [], th.binlogSyncEverySeconds),
    evidence,
    broken: evidence.length > 0,
    binlogGrowthBytesPerSecond: growth,
    binlogDisk: s.binlogDisk ?? null,
    diskFullInSeconds: fullInSeconds(s.binlogDisk, growth),
    currentBehind: snap.currentBehind,
    gap: snap.gap,
    behindSince,
    window: { seconds: (now - Date.parse(first.at)) / 1000, samples: series.length, backlogDelta: backlog - backlogOf(snapshot(first)) },
  };
  return { view, checks: [archivingCheck(s, view, th), formatCheck(s)] };
}

function archivingCheck(s: MysqlSample, v: BinlogView, th: HealthThresholds): HealthCheck {
  const check = (status: HealthStatus, reason: string): HealthCheck => ({ name: 'archiving', status, reason });
  if (!s.logBin) {
    return check('CRIT', 'log_bin is OFF: the server writes no binary logs, so it cannot be restored to a point in time; start it with log_bin (needs a restart).');
  }
  if (!v.newestArchived) {
    const other = s.archive.newest.map((n) => n.name).join(', ');
    return check(
      'WARN',
      other
        ? `No binlog archive of ${v.currentBinlog?.replace(/\.\d+$/, '') ?? 'this server'} yet in ${v.archiveDir} (it holds ${other}); changes since the last backup are only on the server.`
        : `No binlog archive yet in ${v.archiveDir}; changes since the last backup are only on the server.`,
    );
  }
  const age = v.newestArchivedAgeSeconds ?? 0;
  if (v.gap) {
    return check(
      'CRIT',
      `Binlogs ${v.gap.from} to ${v.gap.to} were purged from the server before they were archived: the archive has a hole after ${v.newestArchived}, so no restore can cross it; fix the binlog archiver and take a new full backup.`,
    );
  }
  const backlog = v.pending.length + (v.currentBehind ? 1 : 0);
  if (backlog === 0) {
    const upToDate = `The archive is up to date with ${v.currentBinlog} (newest archived ${v.newestArchived}, written ${formatDuration(age)} ago).`;
    // Nothing waits yet, but the next closed binlog will: say so before it is at risk.
    return v.broken ? check('WARN', `${syncCause(v)}; nothing waits yet, but changes in ${v.currentBinlog} will not be archived. ${upToDate}`) : check('OK', upToDate);
  }
  const lag = v.behindSince ? Math.min(age, (Date.parse(v.at) - Date.parse(v.behindSince)) / 1000) : age;
  const what = v.pending.length > 0
    ? `${v.pending.length} closed binlog${v.pending.length === 1 ? '' : 's'} not archived yet (${v.pending[0]}${v.pending.length > 1 ? ` to ${v.pending.at(-1)}` : ''})`
    : `the archived copy of ${v.currentBinlog} is behind the server's`;
  const newest = `the newest archived, ${v.newestArchived}, was written ${formatDuration(age)} ago`;
  if (v.broken) return check('CRIT', `${syncCause(v)}. ${capital(what)}; ${newest}. ${binlogsAtRisk(v)}`);
  return check(levelOf(lag, th.archiveWarnSeconds, th.archiveCritSeconds), `${capital(what)}; ${newest}.`);
}

/** Which evidence, since when: the first sentence of a broken binlog-sync's reason. */
function syncCause(v: BinlogView): string {
  const now = Date.parse(v.at);
  const agoAt = (iso: string) => `${formatDuration(Math.max(0, (now - Date.parse(iso)) / 1000))} ago (${iso.slice(11, 19)}Z)`;
  const failing = v.evidence.find((e) => e.kind === 'sync-failing');
  const overdue = v.evidence.find((e) => e.kind === 'sync-overdue');
  const parts: string[] = [];
  if (failing) {
    const runs = failing.failedRuns > 1 ? `its last ${failing.failedRuns} runs failed, the newest` : 'its last run failed';
    parts.push(`binlog-sync fails: ${runs} ${agoAt(failing.at)}: ${failing.error.replace(/[.\s]+$/, '')}`);
  }
  if (overdue) {
    const every = overdue.basis === 'configured' ? `health.binlogSyncEvery is ${formatDuration(overdue.everySeconds)}` : `it ran every ${formatDuration(overdue.everySeconds)}`;
    parts.push(`${failing ? 'and it' : 'binlog-sync'} has not run since ${agoAt(overdue.lastRunAt)} though ${every}: it is not running`);
  }
  return parts.join(', ');
}

/** What waits and what grows, in words. */
function binlogsAtRisk(v: BinlogView): string {
  const parts = [`${formatBytes(v.pendingBytes)} of closed binlogs wait${v.behindSince ? ` since ${v.behindSince.slice(11, 19)}Z` : ''}, and the server purges them once they expire`];
  const rate = v.binlogGrowthBytesPerSecond;
  parts.push(rate === null ? 'how fast binlogs grow cannot be told yet (one sample)' : `binlogs grow ${rateWords(rate)}`);
  const disk = v.binlogDisk;
  if (disk && 'unknown' in disk) parts.push(`when their disk is full cannot be told: ${disk.unknown}`);
  else if (disk) parts.push(`their disk (${disk.path}) has ${formatBytes(disk.freeBytes)} free${v.diskFullInSeconds !== null ? `: full in ${fullInWords(v.diskFullInSeconds)} at that rate` : ''}`);
  return `${capital(parts.join('; '))}.`;
}

function formatCheck(s: MysqlSample): HealthCheck {
  const check = (status: HealthStatus, reason: string): HealthCheck => ({ name: 'binlog_format', status, reason });
  if (!s.logBin) return check('OK', `binlog_format=${s.binlogFormat} (log_bin is off, so it does not matter yet).`);
  if (s.binlogFormat.toUpperCase() === 'ROW') return check('OK', 'binlog_format=ROW.');
  return check(
    'WARN',
    `binlog_format=${s.binlogFormat}: replaying statements can diverge (non-deterministic functions, triggers); ROW is recommended for point-in-time recovery.`,
  );
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
