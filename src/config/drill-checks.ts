import { invalid } from '../errors.js';
import { parseDuration } from './duration.js';

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

/** Applies a condition to the single value a check's query returned. */
export function evaluateExpectation(value: unknown, expect: string, targetTime: Date): { ok: boolean; detail: string } {
  const e = expect.trim();
  const shown = value instanceof Date ? value.toISOString() : String(value);
  if (e === 'not null') return { ok: value !== null && value !== undefined, detail: `value ${shown}` };
  const c = COMPARE.exec(e);
  if (c) {
    const n = Number(value);
    const want = Number(c[2]);
    if (value === null || Number.isNaN(n)) return { ok: false, detail: `value ${shown} is not a number` };
    const ok = { '>=': n >= want, '<=': n <= want, '!=': n !== want, '=': n === want, '>': n > want, '<': n < want }[c[1] as '>='];
    return { ok, detail: `value ${shown} ${ok ? 'meets' : 'fails'} ${e}` };
  }
  const w = WITHIN.exec(e)!;
  const limit = parseDuration(w[1]!, 'expect');
  const t = value instanceof Date ? value : new Date(String(value));
  if (value === null || Number.isNaN(t.getTime())) return { ok: false, detail: `value ${shown} is not a time` };
  const gap = Math.abs(targetTime.getTime() - t.getTime()) / 1000;
  return { ok: gap <= limit, detail: `value ${t.toISOString()} is ${Math.round(gap)}s from the target (limit ${w[1]})` };
}
