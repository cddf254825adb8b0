import type { TableStat } from '../repo/manifest.js';

export interface StatMismatch {
  table: string;
  problem: 'missing' | 'rows' | 'digest';
  expected: string;
  actual: string;
}

/**
 * Compares tables counted at backup time with the same tables after a restore. Tables the restore
 * added are not an error; a table that lost or changed rows is, and is named.
 */
export function compareStats(expected: TableStat[], actual: TableStat[]): StatMismatch[] {
  const got = new Map(actual.map((t) => [t.table, t]));
  const out: StatMismatch[] = [];
  for (const e of expected) {
    const a = got.get(e.table);
    if (!a) out.push({ table: e.table, problem: 'missing', expected: `${e.rows} rows`, actual: 'no table' });
    else if (a.rows !== e.rows) out.push({ table: e.table, problem: 'rows', expected: String(e.rows), actual: String(a.rows) });
    else if (e.digest !== undefined && a.digest !== undefined && a.digest !== e.digest) {
      out.push({ table: e.table, problem: 'digest', expected: e.digest, actual: a.digest });
    }
  }
  return out;
}

export function describeMismatches(list: StatMismatch[]): string {
  return list
    .map((m) =>
      m.problem === 'missing'
        ? `${m.table} is missing`
        : m.problem === 'rows'
          ? `${m.table} has ${m.actual} rows, expected ${m.expected}`
          : `${m.table} has the expected row count but different contents`,
    )
    .join('; ');
}

/** "row counts and digests" or "row counts", by what the backup recorded. */
export function whatWasCompared(expected: TableStat[]): string {
  return expected.length > 0 && expected.every((t) => t.digest !== undefined) ? 'row counts and digests' : 'row counts';
}
