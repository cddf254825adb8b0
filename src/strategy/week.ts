import { parseCron } from '../config/cron.js';
import { JOBS, type JobName, type Policy } from '../config/policy.js';

/**
 * The week ahead as the Strategy screen draws it: one row per UTC day, and in it each job that
 * runs that day with its first time and how many times (an hourly incr is "incr ×24", not 24
 * entries). Pure; the caller gives the clock.
 */
export interface WeekRun {
  job: JobName;
  /** First run of the job that day (ISO 8601, UTC). */
  first: string;
  count: number;
}

export interface WeekDay {
  /** YYYY-MM-DD (UTC). */
  day: string;
  runs: WeekRun[];
}

const DAY = 86_400_000;
/** Enough for a job every minute of a day; more are counted as "at least". */
const PER_DAY_LIMIT = 1440;

export function weekOf(policy: Policy | undefined, now: Date, days = 7): WeekDay[] {
  const start = Math.floor(now.getTime() / DAY) * DAY;
  const out: WeekDay[] = [];
  for (let d = 0; d < days; d++) {
    const from = new Date(Math.max(start + d * DAY - 1, now.getTime()));
    const to = new Date(start + (d + 1) * DAY - 1);
    const runs: WeekRun[] = [];
    for (const job of JOBS) {
      const expr = policy?.schedule?.[job];
      if (!expr) continue;
      const at = parseCron(expr, job).between(from, to, PER_DAY_LIMIT);
      if (at.length) runs.push({ job, first: at[0]!.toISOString(), count: at.length });
    }
    out.push({ day: new Date(start + d * DAY).toISOString().slice(0, 10), runs });
  }
  return out;
}
