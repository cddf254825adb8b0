import { parseBinlogName } from './binlog-archive.js';
import { syncSchedule, type BinlogSyncRun } from './binlog-sync-runs.js';
import type { MysqlSample } from './mysql-sample.js';

/**
 * Definite evidence that the binlog archive is broken rather than slow (pure). binlog-sync copies
 * every closed binlog each time it runs, so nothing but its schedule makes a binlog wait: a run
 * that failed, or a run that is overdue, is the fault itself.
 *
 * - sync-failing: binlog-sync's latest recorded run failed (its sentence says why).
 * - sync-overdue: binlog-sync's schedule (health.binlogSyncEvery, or learned from regular runs)
 *   is overdue by more than the slack a cron start and a run take.
 */
export type BinlogEvidence =
  | { kind: 'sync-failing'; at: string; error: string; failedRuns: number }
  | { kind: 'sync-overdue'; lastRunAt: string; everySeconds: number; basis: 'configured' | 'learned'; overdueSeconds: number };

/** Slack past the due time: cron starts late by a few seconds and a run takes a few more. */
export function overdueSlackSeconds(everySeconds: number): number {
  return Math.max(10, everySeconds / 4);
}

export function findBinlogEvidence(s: MysqlSample, configuredEverySeconds: number | null): BinlogEvidence[] {
  const runs = s.sync ?? [];
  const last = runs.at(-1);
  if (!last) return [];
  const now = Date.parse(s.at);
  const evidence: BinlogEvidence[] = [];
  if (!last.ok) {
    let failedRuns = 0;
    for (let i = runs.length - 1; i >= 0 && !runs[i]!.ok; i--) failedRuns++;
    evidence.push({ kind: 'sync-failing', at: last.finishedAt, error: last.error ?? 'no reason recorded', failedRuns });
  }
  const schedule = syncSchedule(runs, configuredEverySeconds);
  if (schedule) {
    const overdue = (now - Date.parse(last.startedAt)) / 1000 - schedule.everySeconds;
    if (overdue > overdueSlackSeconds(schedule.everySeconds)) {
      evidence.push({ kind: 'sync-overdue', lastRunAt: last.startedAt, everySeconds: schedule.everySeconds, basis: schedule.basis, overdueSeconds: overdue });
    }
  }
  return evidence;
}

/** The newest recorded run (undefined when binlog-sync never recorded one here). */
export function lastSyncRun(s: MysqlSample): BinlogSyncRun | undefined {
  return s.sync?.at(-1);
}

/**
 * How fast the server writes binlogs: the bytes from the first sample's current binlog on, across
 * the samples of the same server (purges do not count, rotations do). null from one sample.
 */
export function binlogGrowth(series: readonly MysqlSample[]): number | null {
  const s = series.at(-1)!;
  const now = Date.parse(s.at);
  const first = series.find((x) => x.systemId === s.systemId && x.binlogs.length > 0 && now - Date.parse(x.at) <= 10 * 60_000);
  const from = first?.binlogs.at(-1);
  const fromSeq = from ? parseBinlogName(from.name)?.seq : undefined;
  if (!first || !from || fromSeq === undefined || now - Date.parse(first.at) < 5_000) return null;
  let written = -from.bytes;
  for (const b of s.binlogs) if ((parseBinlogName(b.name)?.seq ?? -1) >= fromSeq) written += b.bytes;
  return Math.max(0, written) / ((now - Date.parse(first.at)) / 1000);
}
