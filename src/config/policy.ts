import { invalid } from '../errors.js';
import { backupTypesOf, methodWords, type MethodOf } from './backup-types.js';
import { parseCron } from './cron.js';
import { parseDuration } from './duration.js';

/**
 * A target's backup strategy, stored with the target in the config file: when each job runs
 * (cron, UTC), what the repository keeps, and how long one job may take. `dbdrill tick` runs it.
 */
export const JOBS = ['full', 'diff', 'incr', 'logical', 'verify', 'restore-verify', 'drill'] as const;
export type JobName = (typeof JOBS)[number];

export interface Retention {
  /** The newest N complete full backups of each kind (physical, logical). */
  keepFull?: number;
  /** The newest N complete differential backups. */
  keepDiff?: number;
  /** Every backup taken in the last D days, and the full a restore to D days ago starts from. */
  keepDays?: number;
  /** The archive (WAL/binlogs) reaches back D days: the base backup that needs is kept too. */
  keepArchive?: number;
  /** Grandfather-father-son, "7d,4w,12m,7y": the newest full of each of the last 7 days, … */
  gfs?: string;
}

export interface Policy {
  schedule?: Partial<Record<JobName, string>>;
  retention?: Retention;
  /** A scheduled job still running after this long is cancelled (default 24h). */
  timeLimit?: string;
  /**
   * When each job's schedule was set: health counts a job that never ran as missed only from
   * its first moment after this, not from a moment that passed before the policy existed.
   */
  since?: Partial<Record<JobName, string>>;
}

export const DEFAULT_TIME_LIMIT = '24h';

export const GFS_UNITS = { d: 'day', w: 'week', m: 'month', y: 'year' } as const;
export type GfsUnit = keyof typeof GFS_UNITS;
export type Gfs = Partial<Record<GfsUnit, number>>;

/** How a sentence names a policy field: a flag (--keep-full) on the command line, a key in the config. */
export type Labeler = (key: string) => string;
export const configLabel = (where: string): Labeler => (key) => `${where ? `${where}: ` : ''}policy${key ? `.${key}` : ''}`;

/** "7d,4w,12m,7y" -> {d: 7, w: 4, m: 12, y: 7}, or one sentence naming the part that is wrong. */
export function parseGfs(text: string, label: string): Gfs {
  const out: Gfs = {};
  const parts = text.split(',').map((p) => p.trim());
  for (const part of parts) {
    const m = /^(\d+)([a-z]*)$/i.exec(part);
    const unit = m?.[2]?.toLowerCase() ?? '';
    if (!m || !(unit in GFS_UNITS)) {
      const what = m ? (unit ? `unknown unit "${m[2]}"` : 'no unit') : `"${part}" is not a count and a unit`;
      throw invalid(`${label} "${text}": ${what}; give counts with d (days), w (weeks), m (months) or y (years), e.g. 7d,4w,12m,7y.`, { field: label });
    }
    const n = Number(m[1]);
    if (n < 1 || n > 1000) throw invalid(`${label} "${text}": ${part} keeps ${n === 0 ? 'nothing' : 'too many'}; give each unit a count from 1 to 1000.`, { field: label });
    if (out[unit as GfsUnit] !== undefined) throw invalid(`${label} "${text}" gives ${GFS_UNITS[unit as GfsUnit]}s twice; give each unit once.`, { field: label });
    out[unit as GfsUnit] = n;
  }
  return out;
}

export function formatGfs(g: Gfs): string {
  return (Object.keys(GFS_UNITS) as GfsUnit[]).filter((u) => g[u] !== undefined).map((u) => `${g[u]}${u}`).join(',');
}

/** A whole count from `min`, as a number or digits (the config file may hold either); "30d" reads as 30 for day counts. */
export function parseCount(value: unknown, label: string, opts: { min: number; days?: boolean }): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const m = (opts.days ? /^(\d{1,6})d?$/ : /^(\d{1,6})$/).exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isInteger(n)) {
    throw invalid(`${label} "${String(value)}" is not a whole ${opts.days ? 'number of days' : 'number'}; give e.g. ${opts.days ? '30' : '4'}.`, { field: label });
  }
  if (n < opts.min) {
    throw invalid(`${label} ${n} would keep nothing; give ${opts.min} or more, or leave it out.`, { field: label });
  }
  return n;
}

const RETENTION_KEYS: Record<keyof Retention, string> = { keepFull: 'keep-full', keepDiff: 'keep-diff', keepDays: 'keep-days', keepArchive: 'keep-archive', gfs: 'gfs' };

/**
 * Sentences name what the operator typed: policy.retention.keepFull reads as --keep-full on the
 * command line (prefix "--") and keep-full in the console's policy form (prefix ""), so the same
 * validation serves both and the form can focus the field a sentence names.
 */
export function policyFieldLabel(prefix: string): Labeler {
  return (key) => {
    if (key === '' || key === 'schedule') return 'the policy';
    if (key === 'retention') return 'the retention';
    if (key === 'timeLimit') return `${prefix}time-limit`;
    const [group, name] = key.split('.');
    if (group === 'schedule') return `${prefix}${name}`;
    const flag = name ? RETENTION_KEYS[name as keyof Retention] : undefined;
    return flag ? `${prefix}${flag}` : `policy.${key}`;
  };
}

/**
 * Checks a policy (from the config file or from flags already merged into it) against the target
 * it belongs to. `label` names each key the way the reader can fix it. Returns a clean copy, or
 * undefined when the policy is empty.
 */
export function validatePolicy(value: unknown, target: MethodOf & { name?: string }, label: Labeler): Policy | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`${label('')} must be an object like {"schedule": {"full": "0 2 * * 0"}, "retention": {"keepFull": 4}}.`, { field: 'policy' });
  }
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!['schedule', 'retention', 'timeLimit', 'since'].includes(key)) throw invalid(`${label(key)} is not a policy setting; use schedule, retention or timeLimit.`, { field: 'policy' });
  }
  const out: Policy = {};
  const schedule = validateSchedule(raw.schedule, target, label);
  if (schedule) out.schedule = schedule;
  const retention = validateRetention(raw.retention, target, label);
  if (retention) out.retention = retention;
  if (raw.timeLimit !== undefined && raw.timeLimit !== null && raw.timeLimit !== '') {
    if (typeof raw.timeLimit !== 'string') throw invalid(`${label('timeLimit')} must be a duration like "6h".`, { field: 'policy' });
    if (parseDuration(raw.timeLimit, label('timeLimit')) < 60) throw invalid(`${label('timeLimit')} "${raw.timeLimit}" is too short for any backup; give at least 1m.`, { field: 'policy' });
    out.timeLimit = raw.timeLimit.trim();
  }
  // Bookkeeping written by policy set; a hand-edited value that is not a time is dropped, not fatal.
  const since = raw.since && typeof raw.since === 'object' && !Array.isArray(raw.since) ? (raw.since as Record<string, unknown>) : {};
  const kept = Object.fromEntries(Object.entries(since).filter(([j, v]) => out.schedule?.[j as JobName] !== undefined && typeof v === 'string' && !Number.isNaN(Date.parse(v))));
  if (Object.keys(kept).length && Object.keys(out).length) out.since = kept as Policy['since'];
  return Object.keys(out).length ? out : undefined;
}

function objectAt(value: unknown, key: string, label: Labeler): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${label(key)} must be an object.`, { field: 'policy' });
  return value as Record<string, unknown>;
}

function validateSchedule(value: unknown, target: MethodOf & { name?: string }, label: Labeler): Policy['schedule'] {
  const raw = objectAt(value, 'schedule', label);
  if (!raw) return undefined;
  const out: NonNullable<Policy['schedule']> = {};
  const types = backupTypesOf(target);
  for (const key of Object.keys(raw)) {
    if (!(JOBS as readonly string[]).includes(key)) throw invalid(`${label(`schedule.${key}`)} is not a job; schedule ${JOBS.join(', ')}.`, { field: 'policy' });
    const v = raw[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw invalid(`${label(`schedule.${key}`)} must be a cron schedule like "0 2 * * 0".`, { field: 'policy' });
    const job = key as JobName;
    if ((job === 'diff' || job === 'incr') && !types.includes(job)) throw noType(target, job, label(`schedule.${key}`));
    out[job] = parseCron(v, label(`schedule.${key}`)).expr;
  }
  return Object.keys(out).length ? out : undefined;
}

function noType(target: MethodOf & { name?: string }, type: string, label: string) {
  return invalid(
    `${label}: ${target.name ? `target "${target.name}" (${methodWords(target)})` : methodWords(target)} takes only full backups, so it has no ${type === 'diff' ? 'differential' : 'incremental'} backups to schedule or keep; remove ${label.replace(/^.*: /, '')}, or use the pgbackrest method.`,
    { field: 'policy' },
  );
}

function validateRetention(value: unknown, target: MethodOf & { name?: string }, label: Labeler): Retention | undefined {
  const raw = objectAt(value, 'retention', label);
  if (!raw) return undefined;
  const out: Retention = {};
  for (const key of Object.keys(raw)) {
    if (!(key in RETENTION_KEYS)) throw invalid(`${label(`retention.${key}`)} is not a retention setting; use ${Object.keys(RETENTION_KEYS).join(', ')}.`, { field: 'policy' });
    const v = raw[key];
    if (v === undefined || v === null || v === '') continue;
    const l = label(`retention.${key}`);
    if (key === 'gfs') {
      if (typeof v !== 'string') throw invalid(`${l} must be text like "7d,4w,12m".`, { field: 'policy' });
      out.gfs = formatGfs(parseGfs(v, l));
    } else {
      out[key as Exclude<keyof Retention, 'gfs'>] = parseCount(v, l, { min: 1, days: key === 'keepDays' || key === 'keepArchive' });
    }
  }
  if (out.keepDiff !== undefined && !backupTypesOf(target).includes('diff')) throw noType(target, 'diff', label('retention.keepDiff'));
  if (Object.keys(out).length === 0) return undefined;
  if (out.keepFull === undefined && out.keepDays === undefined && out.gfs === undefined) {
    const given = (Object.keys(out) as (keyof Retention)[]).map((k) => label(`retention.${k}`).replace(/^.*: /, '')).join(' and ');
    throw invalid(
      `${label('retention')} with only ${given} would keep no full backup, so nothing could be restored; add ${label('retention.keepFull').replace(/^.*: /, '')}, ${label('retention.keepDays').replace(/^.*: /, '')} or ${label('retention.gfs').replace(/^.*: /, '')}.`,
      { field: 'policy' },
    );
  }
  return out;
}

/** The time limit of a scheduled job, in seconds. */
export function timeLimitOf(p: Policy | undefined): number {
  return parseDuration(p?.timeLimit ?? DEFAULT_TIME_LIMIT, 'policy.timeLimit');
}
