import type { DrillReport } from './report.js';

export interface RestoreEstimate {
  /** undefined when no drill of this target measured a restore yet. */
  seconds?: number;
  /** Bytes per second the estimate rests on, and how many drills measured it. */
  bytesPerSecond?: number;
  drills: number;
}

/** Steps that move a restore's bytes: the base backup, then the WAL or binlogs replayed. */
const MOVING = new Set(['restore base', 'replay WAL', 'replay binlogs']);

/**
 * How long a restore of `bytes` should take, from what this target's own drills measured (the
 * median rate of their data-moving steps). A guess from a generic disk speed would mislead at
 * 3 a.m.; with no drill yet the estimate says so, and running one is the way to get it.
 */
export function estimateRestore(drills: readonly DrillReport[], bytes: number): RestoreEstimate {
  const rates: number[] = [];
  for (const d of drills) {
    const steps = d.steps.filter((s) => MOVING.has(s.name) && s.status === 'done' && s.bytes !== undefined && s.seconds !== undefined);
    const moved = steps.reduce((n, s) => n + s.bytes!, 0);
    const took = steps.reduce((n, s) => n + s.seconds!, 0);
    if (moved > 0 && took > 0) rates.push(moved / took);
  }
  if (rates.length === 0) return { drills: 0 };
  rates.sort((a, b) => a - b);
  const mid = rates.length >> 1;
  const rate = rates.length % 2 ? rates[mid]! : (rates[mid - 1]! + rates[mid]!) / 2;
  return { seconds: bytes / rate, bytesPerSecond: rate, drills: rates.length };
}
