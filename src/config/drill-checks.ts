import { invalid } from '../errors.js';
import { formatDuration, parseDuration } from './duration.js';

/**
 * A target's own SQL checks, run against every drill's restored instance: one query returning a
 * single value, and a condition on it. Kept in the config (targets.<name>.checks):
 *   { "name": "orders are fresh", "sql": "SELECT max(created_at) FROM orders", "expect": "within 15m of target" }
 */
export interface DrillCheck {
  name: string;
  sql: string;
  /** "within 15m of target", ">= 1", "= 0", "< 100", "!= 0", "not null" */
  expect: string;
}

const COMPARE = /^(>=|<=|!=|=|>|<)\s*(-?\d+(?:\.\d+)?)$/;
const WITHIN = /^within\s+(\S+)\s+of\s+target$/;

export function validateExpectation(expect: string, where: string): void {
  const e = expect.trim();
  if (e === 'not null' || COMPARE.test(e)) return;
  const w = WITHIN.exec(e);
  if (w) {
    parseDuration(w[1]!, where);
    return;
  }
  throw invalid(`${where} "${expect}" is not a condition; use e.g. ">= 1", "= 0", "not null" or "within 15m of target".`);
}

export function validateDrillChecks(value: unknown, where: string): DrillCheck[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid(`${where} must be a list of {name, sql, expect}.`);
  return value.map((c, i) => {
    const at = `${where}[${i}]`;
    const v = c as Record<string, unknown>;
    for (const k of ['name', 'sql', 'expect'] as const) {
      if (typeof v?.[k] !== 'string' || (v[k] as string).trim() === '') throw invalid(`${at}.${k} is missing; every check needs a name, an sql query and an expect condition.`);
    }
    validateExpectation(v.expect as string, `${at}.expect`);
    return { name: (v.name as string).trim(), sql: v.sql as string, expect: (v.expect as string).trim() };
  });
}

export interface ExpectationResult {
  ok: boolean;
  /** The condition, with the target time filled in for "within … of target". */
  expected: string;
  /** The value as read, and why it could not be judged when it could not. */
  actual: string;
  detail: string;
}

const NUMERIC = /^\s*-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\s*$/;
const INTEGER = /^\s*-?\d+\s*$/;
// ISO 8601 or SQL text: date, optional time, optional zone (Z, +02, +0200, +02:00).
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

function show(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString();
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

/** A number, or a numeric string as drivers return bigint and numeric columns; nothing else. */
function numeric(value: unknown): number | bigint | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && NUMERIC.test(value)) return INTEGER.test(value) ? BigInt(value.trim()) : Number(value);
  return undefined;
}

function compare(a: number | bigint, b: number | bigint): number {
  // Counts past 2^53 stay exact when both sides are whole numbers.
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A time from a driver's Date or from text; text without a zone is read as UTC, and says so. */
function asTime(value: unknown): { at: Date; assumedUtc: boolean } | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : { at: value, assumedUtc: false };
  if (typeof value !== 'string') return undefined;
  const m = TIMESTAMP.exec(value.trim());
  if (!m) return undefined;
  const zone = m[3] === undefined ? 'Z' : m[3].toUpperCase() === 'Z' ? 'Z' : m[3].length === 3 ? `${m[3]}:00` : m[3].includes(':') ? m[3] : `${m[3].slice(0, 3)}:${m[3].slice(3)}`;
  const at = new Date(`${m[1]}T${m[2] ?? '00:00:00'}${zone}`);
  return Number.isNaN(at.getTime()) ? undefined : { at, assumedUtc: m[3] === undefined };
}

/** Applies a condition to the single value a check's query returned. */
export function evaluateExpectation(value: unknown, expect: string, targetTime: Date): ExpectationResult {
  const e = expect.trim();
  const shown = show(value);
  const result = (ok: boolean, expected: string, actual: string): ExpectationResult => ({ ok, expected, actual, detail: `expected ${expected}, got ${actual}` });
  if (e === 'not null') return result(value !== null && value !== undefined, 'not null', shown);
  const c = COMPARE.exec(e);
  if (c) {
    const op = c[1] as '>=' | '<=' | '!=' | '=' | '>' | '<';
    const n = numeric(value);
    if (n === undefined) return result(false, e, `${shown}, which is not a number`);
    const cmp = compare(n, numeric(c[2])!);
    const ok = { '>=': cmp >= 0, '<=': cmp <= 0, '!=': cmp !== 0, '=': cmp === 0, '>': cmp > 0, '<': cmp < 0 }[op];
    return result(ok, e, String(n));
  }
  const w = WITHIN.exec(e);
  if (!w) throw invalid(`"${expect}" is not a condition; use e.g. ">= 1", "= 0", "not null" or "within 15m of target".`);
  const limit = parseDuration(w[1]!, 'expect');
  const expected = `within ${w[1]} of target ${targetTime.toISOString()}`;
  const t = asTime(value);
  if (!t) return result(false, expected, `${shown}, which is not a time`);
  const gap = Math.abs(targetTime.getTime() - t.at.getTime()) / 1000;
  return result(gap <= limit, expected, `${t.at.toISOString()}${t.assumedUtc ? ' (no zone given, read as UTC)' : ''}, ${formatDuration(gap)} from it`);
}
