import type { ReplayProgress } from './decoded.js';
import type { ExpectedEnd } from './simulate.js';

/**
 * The point a replay reached, held against the point its plan promised. The replay's own output
 * says how far it got (src/binlog/decoded.ts: the file, the furthest offset, the last GTID); the
 * promise comes from the binlogs before the replay ran (src/binlog/simulate.ts). Short of it — a
 * file that ended early, a tool that stopped — or past it, the restore is not what was asked for.
 */
export interface BinlogPoint {
  file: string;
  position: number;
  /** The last transaction: its GTID and the time of its GTID event. */
  lastGtid?: string;
  lastAt?: string;
}

/**
 * Where the replay got to, in file names; undefined when the tool printed no event. In the first
 * file the tool jumps from its header to the start position, which it reached even when it stopped
 * right there.
 */
export function reachedPoint(p: Pick<ReplayProgress, 'file' | 'position' | 'lastGtid' | 'lastGtidAt'>, files: string[], startPosition: number): BinlogPoint | undefined {
  const file = files[p.file];
  if (file === undefined) return undefined;
  return { file, position: p.file === 0 ? Math.max(p.position, startPosition) : p.position, ...(p.lastGtid ? { lastGtid: p.lastGtid } : {}), ...(p.lastGtidAt ? { lastAt: p.lastGtidAt.toISOString() } : {}) };
}

/** Where the plan says the replay ends: its stop, and the last transaction it applies. */
export function promisedPoint(e: ExpectedEnd): BinlogPoint {
  return { ...e.stop, ...(e.last ? { lastGtid: e.last.gtid, lastAt: e.last.at } : {}) };
}

const fmt = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/** "mysql-bin.000004:2316 (after transaction 0-1-34 of 2026-12-06 19:36:55Z)" */
export function describePoint(p: BinlogPoint): string {
  return `${p.file}:${p.position} (${p.lastGtid ? `after transaction ${p.lastGtid}${p.lastAt ? ` of ${fmt(p.lastAt)}` : ''}` : 'no transaction after the backup'})`;
}

/** A sentence when the replay stopped short of the plan's point or went past it; undefined when it reached it. */
export function missedPromise(reached: BinlogPoint | undefined, e: ExpectedEnd, files: string[]): string | undefined {
  const promised = promisedPoint(e);
  const at = (file: string, position: number) => [files.indexOf(file), position] as const;
  const before = (a: readonly [number, number], b: readonly [number, number]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  const where = reached ? at(reached.file, reached.position) : ([-1, 0] as const);
  const gtid = reached?.lastGtid;
  let short = false;
  if (gtid !== e.lastGtid) {
    // Which way: a GTID the plan expects later, or none at all, is short; one it never reaches is past.
    short = gtid === undefined || (e.last !== undefined && before(where, at(e.last.file, e.last.end)));
  } else if (e.last && before(where, at(e.last.file, e.last.end))) {
    short = true;
  } else if (e.toEnd && before(where, at(e.stop.file, e.stop.position))) {
    short = true;
  } else {
    return undefined;
  }
  const got = reached ? describePoint(reached) : 'no event';
  return short
    ? `replay stopped short at ${got}, but the plan promised ${describePoint(promised)}${e.last ? `: the transactions after ${gtid ?? 'the backup'} up to ${e.last.gtid} were not applied` : ''}`
    : `replay went past the plan: it reached ${got}, but the plan stops at ${describePoint(promised)}`;
}
