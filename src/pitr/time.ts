import { invalid } from '../errors.js';
import { parseDuration } from '../config/duration.js';
import { checkGtidArg, checkPositionArg } from '../binlog/stops.js';

export type RestoreTarget =
  | { kind: 'latest' }
  /** usec: the exact microseconds within at's second (PostgreSQL's resolution; a Date keeps milliseconds). */
  | { kind: 'time'; at: Date; input: string; usec: number }
  | { kind: 'lsn'; lsn: string }
  | { kind: 'xid'; xid: string }
  | { kind: 'name'; name: string }
  /** MySQL/MariaDB: stop after the transaction with this GTID (domain-server-sequence). */
  | { kind: 'gtid'; gtid: string }
  /** MySQL/MariaDB: stop before the event at this binlog position. */
  | { kind: 'position'; file: string; position: number }
  /** The chosen backup's own consistent moment, nothing replayed after it (restore --backup ID alone). */
  | { kind: 'immediate' };

const ZONED = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)$/i;
const UNZONED = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/**
 * A restore time as an operator types it: ISO 8601 with a zone ("2026-11-24T14:30:00Z",
 * "2026-11-24 15:30+01:00"), or relative to now ("-15m", "-2h30m"). A time without a zone is
 * refused: at 3 a.m. on a server in another zone, a silent guess restores the wrong hour.
 */
export function parseRestoreTime(text: string, now = new Date()): Date {
  const t = text.trim();
  if (/^-\s*\d/.test(t)) return new Date(now.getTime() - parseDuration(t.replace(/^-\s*/, ''), '--to') * 1000);
  const m = ZONED.exec(t);
  if (m) {
    const zone = m[3]!.toUpperCase() === 'Z' ? 'Z' : m[3]!.length === 3 ? `${m[3]}:00` : m[3]!.includes(':') ? m[3]! : `${m[3]!.slice(0, 3)}:${m[3]!.slice(3)}`;
    const d = new Date(`${m[1]}T${m[2]}${m[2]!.length === 5 ? ':00' : ''}${zone}`);
    if (!Number.isNaN(d.getTime())) return d;
  }
  if (UNZONED.test(t)) {
    throw invalid(`The time "${text}" has no time zone; add one, e.g. "${t.replace(' ', 'T')}Z" for UTC or "${t.replace(' ', 'T')}+01:00".`);
  }
  throw invalid(`"${text}" is not a time; give ISO 8601 with a zone (2026-11-24T14:30:00Z), a relative time (-15m), or latest.`);
}

export function parseRestoreTarget(opts: { to?: string; lsn?: string; xid?: string; name?: string; gtid?: string; position?: string }, now = new Date()): RestoreTarget {
  const given = [opts.to, opts.lsn, opts.xid, opts.name, opts.gtid, opts.position].filter((x) => x !== undefined);
  if (given.length !== 1) throw invalid('Give exactly one restore target: --to TIME|latest, --lsn L, --xid X or --name N (PostgreSQL), --gtid G or --position FILE:POS (MySQL/MariaDB).');
  if (opts.gtid !== undefined) return { kind: 'gtid', gtid: checkGtidArg(opts.gtid) };
  if (opts.position !== undefined) return { kind: 'position', ...checkPositionArg(opts.position) };
  if (opts.lsn !== undefined) {
    if (!/^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(opts.lsn)) throw invalid(`--lsn "${opts.lsn}" is not an LSN; write it like 0/3000028.`);
    return { kind: 'lsn', lsn: opts.lsn.toUpperCase() };
  }
  if (opts.xid !== undefined) {
    if (!/^\d+$/.test(opts.xid)) throw invalid(`--xid "${opts.xid}" is not a transaction id; give a whole number.`);
    return { kind: 'xid', xid: opts.xid };
  }
  if (opts.name !== undefined) return { kind: 'name', name: opts.name };
  if (opts.to === 'latest') return { kind: 'latest' };
  const at = parseRestoreTime(opts.to!, now);
  return { kind: 'time', at, input: opts.to!, usec: microsWithinSecond(opts.to!, at) };
}

/**
 * The microseconds within the second that a time names: all the digits typed (up to six), so
 * "…25.655398Z" keeps its 398 µs that a Date would drop; a relative time has only `at`'s.
 */
export function microsWithinSecond(text: string, at: Date): number {
  const m = /^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}\.(\d{1,6})(?!\d)/i.exec(text);
  return m ? Number(m[1]!.padEnd(6, '0')) : (((at.getTime() % 1000) + 1000) % 1000) * 1000;
}
