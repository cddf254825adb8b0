import { invalid } from '../errors.js';
import { parseDuration } from './duration.js';

/**
 * Per-target health thresholds, as written in the config file. Every field is optional: a missing
 * one takes the default below. Durations are text ("26h", "5m") so the file stays readable.
 */
export interface HealthSettings {
  /** Newest complete backup older than this: WARN. */
  backupWarn?: string;
  /** Newest complete backup older than this: CRIT. */
  backupCrit?: string;
  /** A WAL segment (or closed binlog) waiting this long to be archived: WARN. */
  archiveWarn?: string;
  /** … and this long: CRIT. */
  archiveCrit?: string;
  /**
   * Nothing archived this long while files wait: CRIT, whatever their age. A working archiver
   * makes progress every few seconds however far behind it is; one that makes none is broken
   * (a hung archive_command), not slow.
   */
  archiveStall?: string;
  /**
   * How often binlog-sync is scheduled (MySQL/MariaDB): a run this much overdue while closed
   * binlogs wait is CRIT. Without it, the schedule is learned from binlog-sync's recorded runs.
   */
  binlogSyncEvery?: string;
}

/**
 * Defaults. Backups: a daily cron job that is late by two hours is still fine (26h), one missed
 * night is critical (50h). Archiving: a healthy archive_command copies a segment in seconds, so a
 * segment waiting 5 minutes means trouble and 15 minutes is data at risk. A stall of 30 s leaves
 * room for a slow upload of one segment and still puts CRIT inside the minute a cron-driven
 * `dbdrill health` has (the one-shot waits out a stall shorter than this instead of guessing).
 */
export const HEALTH_DEFAULTS: Required<Omit<HealthSettings, 'binlogSyncEvery'>> = {
  backupWarn: '26h',
  backupCrit: '50h',
  archiveWarn: '5m',
  archiveCrit: '15m',
  archiveStall: '30s',
};

export interface HealthThresholds {
  backupWarnSeconds: number;
  backupCritSeconds: number;
  archiveWarnSeconds: number;
  archiveCritSeconds: number;
  archiveStallSeconds: number;
  /** null: not configured (learned from binlog-sync's recorded runs, if regular). */
  binlogSyncEverySeconds: number | null;
}

const KEYS: (keyof HealthSettings)[] = [...(Object.keys(HEALTH_DEFAULTS) as (keyof HealthSettings)[]), 'binlogSyncEvery'];

/**
 * Checks the `health` field of a target: an object with known duration fields, each warning
 * threshold shorter than its critical one (after defaults are applied, so a lone backupCrit of
 * "12h" is caught against the default warning of 26h). Returns undefined when absent.
 */
export function validateHealthSettings(value: unknown, field = 'health'): HealthSettings | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`${field} must be an object like {"backupWarn": "26h", "archiveCrit": "15m"}.`, { field: 'health' });
  }
  const raw = value as Record<string, unknown>;
  const out: HealthSettings = {};
  for (const key of Object.keys(raw)) {
    if (!(KEYS as string[]).includes(key)) {
      throw invalid(`${field}.${key} is not a health setting; use ${KEYS.join(', ')}.`, { field: 'health' });
    }
    const v = raw[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw invalid(`${field}.${key} must be a duration like "15m", not ${typeof v}.`, { field: 'health' });
    const seconds = parseDuration(v, `${field}.${key}`);
    if (seconds <= 0) throw invalid(`${field}.${key} "${v}" must be longer than zero.`, { field: 'health' });
    out[key as keyof HealthSettings] = v.trim();
  }
  const t = thresholdsOf(out);
  for (const [warn, crit, w, c] of [
    ['backupWarn', 'backupCrit', t.backupWarnSeconds, t.backupCritSeconds],
    ['archiveWarn', 'archiveCrit', t.archiveWarnSeconds, t.archiveCritSeconds],
  ] as const) {
    if (w >= c) {
      throw invalid(
        `${field}.${warn} (${out[warn] ?? `default ${HEALTH_DEFAULTS[warn]}`}) must be shorter than ${field}.${crit} (${out[crit] ?? `default ${HEALTH_DEFAULTS[crit]}`}).`,
        { field: 'health' },
      );
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The thresholds in seconds, defaults filled in. */
export function thresholdsOf(settings: HealthSettings | undefined): HealthThresholds {
  const get = (k: keyof typeof HEALTH_DEFAULTS) => parseDuration(settings?.[k] ?? HEALTH_DEFAULTS[k], `health.${k}`);
  return {
    backupWarnSeconds: get('backupWarn'),
    backupCritSeconds: get('backupCrit'),
    archiveWarnSeconds: get('archiveWarn'),
    archiveCritSeconds: get('archiveCrit'),
    archiveStallSeconds: get('archiveStall'),
    binlogSyncEverySeconds: settings?.binlogSyncEvery ? parseDuration(settings.binlogSyncEvery, 'health.binlogSyncEvery') : null,
  };
}
