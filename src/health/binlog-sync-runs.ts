import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../repo/atomic.js';

/**
 * What `dbdrill binlog-sync` did lately, kept per target in the config directory
 * (state/NAME/binlog-sync-runs.json): binlog-sync runs from cron and leaves nothing behind when it
 * fails — a wrong password, a full or read-only repository leave the archive as it was — so
 * without this record health could only see binlogs age. Written by binlog-sync after every run,
 * read by health. Bounded, atomic; recording never makes binlog-sync fail.
 */
export interface BinlogSyncRun {
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  /** The run's one sentence when it failed. */
  error?: string;
  /** Binlogs newly archived by this run. */
  copied?: number;
}

export const SYNC_RUNS_KEPT = 20;

export function binlogSyncRunsFile(configDir: string, target: string): string {
  return join(configDir, 'state', target, 'binlog-sync-runs.json');
}

export function readBinlogSyncRuns(configDir: string, target: string): BinlogSyncRun[] {
  try {
    const doc = JSON.parse(readFileSync(binlogSyncRunsFile(configDir, target), 'utf8')) as { runs?: unknown };
    if (!Array.isArray(doc.runs)) return [];
    return doc.runs.filter(
      (r): r is BinlogSyncRun =>
        typeof r === 'object' && r !== null && typeof (r as BinlogSyncRun).startedAt === 'string' && typeof (r as BinlogSyncRun).finishedAt === 'string' && typeof (r as BinlogSyncRun).ok === 'boolean',
    );
  } catch {
    return [];
  }
}

export function recordBinlogSyncRun(configDir: string, target: string, run: BinlogSyncRun): void {
  try {
    const runs = [...readBinlogSyncRuns(configDir, target), run].slice(-SYNC_RUNS_KEPT);
    writeFileAtomic(binlogSyncRunsFile(configDir, target), `${JSON.stringify({ runs }, null, 1)}\n`);
  } catch {
    // The archive matters, its diary does not: health falls back to the binlogs' age.
  }
}

/**
 * How often binlog-sync is meant to run: the target's health.binlogSyncEvery, else learned from
 * the recorded runs when they look scheduled — at least four starts whose gaps differ by less
 * than half of their median (cron, a systemd timer). Runs by hand now and then teach nothing.
 */
export function syncSchedule(runs: readonly BinlogSyncRun[], configuredSeconds: number | null): { everySeconds: number; basis: 'configured' | 'learned' } | null {
  if (configuredSeconds !== null) return { everySeconds: configuredSeconds, basis: 'configured' };
  const starts = runs.map((r) => Date.parse(r.startedAt)).filter((t) => !Number.isNaN(t)).sort((a, b) => a - b).slice(-8);
  if (starts.length < 4) return null;
  const gaps = starts.slice(1).map((t, i) => (t - starts[i]!) / 1000).sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)]!;
  if (median <= 0 || gaps.some((g) => Math.abs(g - median) > median / 2)) return null;
  return { everySeconds: median, basis: 'learned' };
}
