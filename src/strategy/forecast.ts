import { parseCron } from '../config/cron.js';
import { formatDuration } from '../config/duration.js';
import { GFS_UNITS, JOBS, parseGfs, type JobName, type Policy } from '../config/policy.js';
import { formatBytes } from '../util/bytes.js';
import { planRetention, type RetentionItem } from './retention.js';

/**
 * `dbdrill plan`: the next runs of every job, the repository's size at steady state, and how the
 * policy meets its objectives. Pure: the caller measures (backup sizes, archive rate, drills,
 * archive_timeout) and this reasons. The steady state is simulated, not estimated by formula: the
 * schedules are played backwards from now into synthetic backups and the real retention planner
 * says which it keeps, so the forecast can never disagree with what prune does.
 */
export type SizedJob = 'full' | 'diff' | 'incr' | 'logical';

export interface ForecastInput {
  policy: Policy | undefined;
  now: Date;
  days: number;
  /** Typical bytes of each kind of backup, measured from the catalog. */
  sizes: Partial<Record<SizedJob, number>>;
  /** Archive growth (WAL or binlogs), bytes per day, measured. */
  archiveBytesPerDay?: number;
  /** PostgreSQL archive_timeout (0 = off); undefined when the server was not asked. */
  archiveTimeoutSeconds?: number;
  engine: 'postgres' | 'mysql';
  rpoSeconds?: number;
  rtoSeconds?: number;
  /** Drills, newest first. */
  drills: { id: string; startedAt: string; status: string; rtoSeconds?: number }[];
}

export interface SteadyItem {
  what: SizedJob;
  kept: number;
  bytesEach?: number;
  bytes?: number;
}

export interface Forecast {
  runs: { job: JobName; schedule: string; next: string[] }[];
  steady: {
    backups: SteadyItem[];
    archive?: { days: number; bytesPerDay?: number; bytes?: number };
    totalBytes?: number;
    notes: string[];
  };
  objectives: { rpo: Objective; rto: Objective };
}

export interface Objective {
  objective?: string;
  ok?: boolean;
  assessment: string;
}

const DAY = 86_400_000;
const MAX_SYNTHETIC = 50_000;

function horizonDays(p: Policy | undefined): number {
  const r = p?.retention;
  let days = Math.max(r?.keepDays ?? 0, r?.keepArchive ?? 0, 7);
  if (r?.gfs) {
    const g = parseGfs(r.gfs, 'gfs');
    const span: Record<keyof typeof GFS_UNITS, number> = { d: 1, w: 7, m: 31, y: 366 };
    for (const u of Object.keys(g) as (keyof typeof GFS_UNITS)[]) days = Math.max(days, (g[u] ?? 0) * span[u]);
  }
  // keep-full counts backups: long enough for the N fulls of the slowest schedule.
  const full = p?.schedule?.full ?? p?.schedule?.logical;
  if (r?.keepFull && full) {
    const runs = parseCron(full, 'full').between(new Date(0), new Date(3 * 366 * DAY), 3);
    const gap = runs.length > 1 ? (runs[1]!.getTime() - runs[0]!.getTime()) / DAY : 31;
    days = Math.max(days, Math.ceil((r.keepFull + 1) * gap));
  }
  return Math.min(days + 2, 8 * 366);
}

/** Backups the schedules would have taken over the horizon, as the catalog would list them. */
export function syntheticCatalog(p: Policy | undefined, now: Date, days: number): RetentionItem[] {
  const from = new Date(now.getTime() - days * DAY);
  const events: { at: Date; job: SizedJob }[] = [];
  for (const job of ['full', 'diff', 'incr', 'logical'] as const) {
    const expr = p?.schedule?.[job];
    if (expr) for (const at of parseCron(expr, job).between(from, now, MAX_SYNTHETIC)) events.push({ at, job });
  }
  events.sort((a, b) => a.at.getTime() - b.at.getTime() || ['full', 'diff', 'incr', 'logical'].indexOf(a.job) - ['full', 'diff', 'incr', 'logical'].indexOf(b.job));
  const items: RetentionItem[] = [];
  let lastFull: string | undefined;
  let last: string | undefined;
  const seen = new Set<number>();
  for (const e of events.slice(-MAX_SYNTHETIC)) {
    const stamp = e.at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    // A full at the same moment as a diff/incr serves them (tick runs the full, not both).
    if (e.job !== 'logical' && seen.has(e.at.getTime())) continue;
    if (e.job !== 'logical') seen.add(e.at.getTime());
    const letter = { full: 'F', diff: 'D', incr: 'I', logical: 'L' }[e.job];
    const id = `${stamp}-${letter}`;
    const item: RetentionItem = { id, kind: e.job === 'logical' ? 'logical' : 'physical', type: e.job === 'logical' ? 'full' : e.job, status: 'complete', startedAt: e.at.toISOString() };
    if (e.job === 'diff' && lastFull) item.prior = lastFull;
    if (e.job === 'incr' && last) item.prior = last;
    if (e.job === 'full') {
      item.pitrFrom = e.at.toISOString();
      item.archiveFrom = stamp;
      lastFull = id;
    }
    if (e.job !== 'logical') last = id;
    if ((e.job === 'diff' || e.job === 'incr') && !item.prior) continue;
    items.push(item);
  }
  return items;
}

export function forecast(i: ForecastInput): Forecast {
  const p = i.policy;
  const runs = JOBS.filter((j) => p?.schedule?.[j]).map((job) => ({
    job,
    schedule: p!.schedule![job]!,
    next: parseCron(p!.schedule![job]!, job).between(i.now, new Date(i.now.getTime() + i.days * DAY), 50).map((d) => d.toISOString()),
  }));

  const notes: string[] = [];
  const backups: SteadyItem[] = [];
  let archive: Forecast['steady']['archive'];
  if (!p?.retention) {
    notes.push('no retention: the repository grows without bound; set --keep-full, --keep-days or --gfs');
  } else {
    const synthetic = syntheticCatalog(p, i.now, horizonDays(p));
    const plan = planRetention(synthetic, p.retention, i.now);
    const kept = new Set(plan.decisions.filter((d) => d.keep).map((d) => d.id));
    for (const what of ['full', 'diff', 'incr', 'logical'] as const) {
      if (!p.schedule?.[what]) continue;
      const n = synthetic.filter((s) => kept.has(s.id) && (what === 'logical' ? s.kind === 'logical' : s.kind === 'physical' && s.type === what)).length;
      const each = i.sizes[what];
      backups.push({ what, kept: n, ...(each !== undefined ? { bytesEach: each, bytes: n * each } : {}) });
      if (each === undefined) notes.push(`no complete ${what} backup measured yet: its size is unknown`);
    }
    const oldest = plan.archiveFrom ? synthetic.find((s) => s.id === plan.archiveFrom!.backup) : undefined;
    if (oldest) {
      const days = (i.now.getTime() - Date.parse(oldest.startedAt)) / DAY;
      archive = { days: Math.round(days * 10) / 10, ...(i.archiveBytesPerDay !== undefined ? { bytesPerDay: i.archiveBytesPerDay, bytes: Math.round(days * i.archiveBytesPerDay) } : {}) };
      if (i.archiveBytesPerDay === undefined) notes.push('no archive rate measured yet: the archive\'s size is unknown');
    } else if (p.schedule?.full) {
      notes.push('no full is kept by the simulation, so the archive size cannot be told');
    }
  }
  const sizes = [...backups.map((b) => b.bytes), archive?.bytes];
  const totalBytes = sizes.every((s) => s !== undefined) && sizes.length > 0 ? sizes.reduce((a, b) => a! + b!, 0) : undefined;
  if (totalBytes !== undefined) notes.push(`steady state about ${formatBytes(totalBytes)}`);
  return { runs, steady: { backups, ...(archive ? { archive } : {}), ...(totalBytes !== undefined ? { totalBytes } : {}), notes }, objectives: { rpo: rpoOf(i), rto: rtoOf(i) } };
}

function rpoOf(i: ForecastInput): Objective {
  const objective = i.rpoSeconds !== undefined ? formatDuration(i.rpoSeconds) : undefined;
  if (i.rpoSeconds === undefined) return { assessment: 'no RPO objective set (--rpo)' };
  if (i.engine === 'mysql') {
    return { objective, assessment: `binlogs reach the repository when binlog-sync --rotate runs: run it at least every ${objective} (cron) to meet the RPO` };
  }
  const t = i.archiveTimeoutSeconds;
  if (t === undefined) return { objective, assessment: 'archive_timeout unknown (the server was not reached): cannot tell whether archiving meets the RPO' };
  if (t === 0) return { objective, ok: false, assessment: `archive_timeout is off: on a quiet server a WAL segment may stay unarchived for hours, beyond the RPO of ${objective}; set archive_timeout to at most ${objective}` };
  if (t > i.rpoSeconds) return { objective, ok: false, assessment: `archive_timeout (${formatDuration(t)}) is longer than the RPO of ${objective}: a quiet server can lose up to ${formatDuration(t)}; lower it` };
  return { objective, ok: true, assessment: `archive_timeout (${formatDuration(t)}) closes a WAL segment at least that often, within the RPO of ${objective}` };
}

function rtoOf(i: ForecastInput): Objective {
  const objective = i.rtoSeconds !== undefined ? formatDuration(i.rtoSeconds) : undefined;
  const measured = i.drills.filter((d) => d.status === 'passed' && d.rtoSeconds !== undefined).slice(0, 3);
  if (measured.length === 0) return { ...(objective ? { objective } : {}), assessment: `no passed drill has measured the RTO yet; schedule one with --drill${objective ? ` (objective ${objective})` : ''}` };
  const worst = Math.max(...measured.map((d) => d.rtoSeconds!));
  const list = measured.map((d) => `${formatDuration(d.rtoSeconds!)} (${d.id})`).join(', ');
  if (i.rtoSeconds === undefined) return { assessment: `the last drills took ${list}; no RTO objective set (--rto)` };
  return worst <= i.rtoSeconds
    ? { objective, ok: true, assessment: `the last drills took ${list}, within the RTO of ${objective}` }
    : { objective, ok: false, assessment: `the last drills took ${list}: the slowest exceeds the RTO of ${objective}` };
}
