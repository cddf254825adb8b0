import { usage } from '../errors.js';
import type { RestoreTarget } from '../pitr/time.js';
import type { SecondChoice } from './window.js';

/**
 * Binlog events carry whole seconds, so a time target with a fraction falls inside a second the
 * binlog cannot divide. These read the fraction the operator asked for, and --second, which says
 * what to do with the transactions of that second.
 */
type TimeTarget = Extract<RestoreTarget, { kind: 'time' }>;

const FRACTION = /:\d{2}\.(\d{1,9})/;

/**
 * Microseconds within its second that a time target names: as typed (or as the parser recorded
 * them, `usec`). A relative time ("-15m") names no moment within a second: 0.
 */
export function subSecondMicros(t: TimeTarget): number {
  if (/^\s*-/.test(t.input)) return 0;
  const usec = (t as { usec?: unknown }).usec;
  if (typeof usec === 'number') return usec;
  const m = FRACTION.exec(t.input);
  return m ? Number(m[1]!.slice(0, 6).padEnd(6, '0')) : 0;
}

/** The fraction as typed (".500"), or "" for a whole second. */
export function targetFraction(t: TimeTarget): string {
  if (subSecondMicros(t) === 0) return '';
  const m = FRACTION.exec(t.input);
  return m ? `.${m[1]}` : `.${String(subSecondMicros(t)).padStart(6, '0').replace(/0+$/, '')}`;
}

/** Checks --second as typed. */
export function parseSecondArg(text: string | undefined): SecondChoice | undefined {
  if (text === undefined) return undefined;
  const v = text.trim().toLowerCase();
  if (v === 'inclusive' || v === 'exclusive') return v;
  throw usage(`--second "${text}" must be inclusive (replay every transaction stamped the target's second) or exclusive (none of them).`);
}

/** --second only means something for a time target. */
export function checkSecondFor(second: SecondChoice | undefined, target: RestoreTarget): void {
  if (second !== undefined && target.kind !== 'time') {
    throw usage("--second applies to a --to TIME target only (it decides about the transactions stamped in that time's second); leave it out.");
  }
}
