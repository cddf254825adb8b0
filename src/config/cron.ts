import { Cron } from 'croner';
import { invalid } from '../errors.js';

/**
 * Cron schedules, parsed by croner (ESM, no dependencies, forward and backward iteration). Only
 * the standard 5 fields and @hourly/@daily/@weekly/@monthly/@yearly are accepted: croner also
 * takes a seconds field, which a scheduler ticking once a minute could never honour. Every time is
 * UTC, so one policy means the same moments on every host that reads the repository.
 */
export interface Schedule {
  readonly expr: string;
  /** The first run strictly after `after`. */
  next(after: Date): Date | undefined;
  /** The latest run at or before `at` (the slot a tick at `at` serves). */
  latest(at: Date): Date | undefined;
  /** Runs in (from, to], oldest first, at most `limit`. */
  between(from: Date, to: Date, limit?: number): Date[];
}

export const CRON_FIELDS = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
const RANGES = ['0-59', '0-23', '1-31', '1-12 or jan-dec', '0-7 or sun-sat'];
const NICKNAMES = ['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually'];
const FORMAT = 'write 5 fields (minute hour day-of-month month day-of-week, e.g. "0 2 * * 0") or @hourly, @daily, @weekly, @monthly';

function compile(pattern: string): Cron {
  return new Cron(pattern, { paused: true, timezone: 'UTC', mode: '5-part' });
}

/**
 * Parses a schedule or throws one sentence naming `label` (the flag or config key) and, when one
 * field is wrong, that field and its range. Each field is tried alone (the others as "*") so the
 * sentence names the culprit whatever words the library uses.
 */
export function parseCron(text: string, label: string): Schedule {
  const expr = text.trim().replace(/\s+/g, ' ');
  if (expr === '') throw invalid(`${label} is empty; ${FORMAT}.`, { field: label });
  if (expr.startsWith('@') && !NICKNAMES.includes(expr.toLowerCase())) {
    throw invalid(`${label} "${text}" is not a schedule: ${expr} is not known; use @hourly, @daily, @weekly, @monthly or 5 fields.`, { field: label });
  }
  let cron: Cron;
  try {
    cron = compile(expr.startsWith('@') ? expr.toLowerCase() : expr);
  } catch (e) {
    const parts = expr.split(' ');
    if (parts.length !== 5) {
      throw invalid(`${label} "${text}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; ${FORMAT}.`, { field: label });
    }
    for (let i = 0; i < 5; i++) {
      const alone = parts.map((p, j) => (j === i ? p : '*')).join(' ');
      try {
        compile(alone);
      } catch {
        throw invalid(`${label} "${text}": the ${CRON_FIELDS[i]} field "${parts[i]}" is not valid (${RANGES[i]}, lists a,b, ranges a-b, steps */n).`, { field: label, cronField: CRON_FIELDS[i] });
      }
    }
    throw invalid(`${label} "${text}" is not a schedule (${(e as Error).message.replace(/^CronPattern: /, '')}); ${FORMAT}.`, { field: label });
  }
  if (cron.nextRun(new Date()) === null) {
    throw invalid(`${label} "${text}" never comes (no date matches every field, e.g. 31 February); change the day-of-month or month field.`, { field: label });
  }
  return scheduleOf(expr, cron);
}

function scheduleOf(expr: string, cron: Cron): Schedule {
  return {
    expr,
    next: (after) => cron.nextRun(after) ?? undefined,
    // previousRuns(1, ref) answers runs before ref; one millisecond on includes a run at `at` itself.
    latest: (at) => cron.previousRuns(1, new Date(at.getTime() + 1))[0],
    between(from, to, limit = 10_000) {
      const out: Date[] = [];
      for (let d = cron.nextRun(from); d && d <= to && out.length < limit; d = cron.nextRun(d)) out.push(d);
      return out;
    },
  };
}
