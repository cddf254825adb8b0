/**
 * The three states a health check can be in, Nagios style, and how they combine: the report is as
 * bad as its worst check, and the command's exit code tells a monitoring system which one it is.
 */
export type HealthStatus = 'OK' | 'WARN' | 'CRIT';

export interface HealthCheck {
  /** Short and stable, e.g. "archiving", "backup": monitoring rules and the console key on it. */
  name: string;
  status: HealthStatus;
  /** One sentence an operator can act on. */
  reason: string;
}

const RANK: Record<HealthStatus, number> = { OK: 0, WARN: 1, CRIT: 2 };

export function statusRank(s: HealthStatus): 0 | 1 | 2 {
  return RANK[s] as 0 | 1 | 2;
}

export function worst(statuses: Iterable<HealthStatus>): HealthStatus {
  let w: HealthStatus = 'OK';
  for (const s of statuses) if (RANK[s] > RANK[w]) w = s;
  return w;
}

/** DESIGN's exit codes: 0 ok, 3 a check at warning, 4 critical. */
export function exitCodeOf(s: HealthStatus): 0 | 3 | 4 {
  return s === 'OK' ? 0 : s === 'WARN' ? 3 : 4;
}

/** A value against a warning and a critical threshold (both inclusive). */
export function levelOf(value: number, warn: number, crit: number): HealthStatus {
  return value >= crit ? 'CRIT' : value >= warn ? 'WARN' : 'OK';
}
