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
  if (/^-\s*\d/.test(t)) return relativeTime(text, t, now);
  checkTimeParts(text, t);
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

/** "-15m" before now; a span so long it leaves the calendar (or goes before 1970) is refused. */
function relativeTime(text: string, t: string, now: Date): Date {
  const at = new Date(now.getTime() - parseDuration(t.replace(/^-\s*/, ''), '--to') * 1000);
  if (Number.isNaN(at.getTime()) || at.getTime() < 0) {
    throw invalid(`The time "${text}" reaches back before 1970, earlier than any backup; give a shorter span such as -15m or -2h, or an ISO 8601 time.`);
  }
  return at;
}

/** Loosely what an ISO time looks like, so a wrong part can be named rather than the whole refused. */
const PARTS = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d+))?)?)?\s*(.*)$/i;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Each way a typed time can be wrong gets its own sentence: a date that does not exist (Date
 * would silently roll 2026-02-30 over to March 2), an hour, minute or second out of range, an
 * offset no zone has, a zone name (EST is ambiguous), more digits than a microsecond.
 */
function checkTimeParts(text: string, t: string): void {
  const p = PARTS.exec(t);
  if (!p) return;
  const [year, month, day] = [Number(p[1]), Number(p[2]), Number(p[3])];
  const bad = (why: string) => invalid(`The time "${text}" ${why}`);
  if (month < 1 || month > 12) throw bad(`has month ${p[2]}, which does not exist; months run from 01 to 12.`);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days) throw bad(`is not a date: ${MONTHS[month - 1]} ${year} has ${days} days, so day ${p[3]} does not exist.`);
  if (p[4] === undefined) return;
  if (Number(p[4]) > 23) throw bad(`has hour ${p[4]}; hours run from 00 to 23.`);
  if (Number(p[5]) > 59) throw bad(`has minute ${p[5]}; minutes run from 00 to 59.`);
  if (p[6] !== undefined && Number(p[6]) > 59) throw bad(`has second ${p[6]}; seconds run from 00 to 59 (a leap second cannot be restored to).`);
  if (p[7] !== undefined && p[7].length > 6) {
    throw bad(`has ${p[7].length} digits after the second; PostgreSQL and MariaDB record microseconds, so give at most 6 (e.g. .${p[7].slice(0, 6)}).`);
  }
  const zone = p[8]!.trim();
  const offset = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (offset) {
    const minutes = Number(offset[2]) * 60 + Number(offset[3] ?? 0);
    if (Number(offset[3] ?? 0) > 59 || minutes > (offset[1] === '+' ? 14 * 60 : 12 * 60)) throw bad(`has the offset ${zone}, which no time zone has; offsets run from -12:00 to +14:00.`);
    return;
  }
  if (/^(utc|gmt|z)$/i.test(zone) && zone.toUpperCase() !== 'Z') throw bad(`names the zone ${zone}; write Z for UTC, e.g. "${t.slice(0, t.length - zone.length).trim().replace(' ', 'T')}Z".`);
  if (/^[a-z][a-z/_+-]*$/i.test(zone) && zone.toUpperCase() !== 'Z') {
    throw bad(`names the zone ${zone}; zone abbreviations are ambiguous (EST is US or Australian Eastern time), so write its UTC offset instead (-05:00 for US Eastern Standard Time) or Z for UTC.`);
  }
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
