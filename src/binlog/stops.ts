import { invalid } from '../errors.js';
import { isGtidEvent, isMetaEvent, type BinlogEvent } from './events.js';

/**
 * Where a replay to a GTID or to a binlog position stops, worked out from a file's event headers
 * (src/binlog/events.ts). mariadb-binlog --stop-position=N stops before the first event at N or
 * later in the last file; stopping inside a transaction would replay its first half and roll it
 * back, so a stop must lie on a transaction boundary. Boundaries are the starts of GTID events
 * (each MariaDB transaction and DDL statement begins with one), the starts of the file's own
 * events (format description, GTID list, checkpoints, rotate, stop) and the end of its last event.
 * A transaction runs from its GTID event to the next boundary.
 */

/** A MariaDB GTID: domain-server-sequence. */
export interface Gtid {
  domain: number;
  server: number;
  seq: bigint;
}

const GTID_RE = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/;

export function parseGtid(text: string): Gtid | undefined {
  const m = GTID_RE.exec(text.trim());
  return m ? { domain: Number(m[1]), server: Number(m[2]), seq: BigInt(m[3]!) } : undefined;
}

/** Checks --gtid as an operator types it: MariaDB's form; MySQL's uuid:n is refused by name. */
export function checkGtidArg(text: string): string {
  if (parseGtid(text)) return text.trim();
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:\d+/i.test(text.trim())) {
    throw invalid(`--gtid "${text}" is a MySQL GTID; dbdrill replays binlogs into MariaDB, whose GTIDs read domain-server-sequence (0-1-42).`);
  }
  throw invalid(`--gtid "${text}" is not a MariaDB GTID; write it as domain-server-sequence, e.g. 0-1-42 (SELECT @@gtid_binlog_pos shows the newest).`);
}

/** Checks --position FILE:POS, e.g. mysql-bin.000003:1234. */
export function checkPositionArg(text: string): { file: string; position: number } {
  const m = /^([^/:\s]+\.\d+):(\d+)$/.exec(text.trim());
  if (!m || !Number.isSafeInteger(Number(m[2]))) {
    throw invalid(`--position "${text}" is not a binlog position; write it as FILE:POS, e.g. mysql-bin.000003:1234 (SHOW BINLOG EVENTS lists them).`);
  }
  return { file: m[1]!, position: Number(m[2]) };
}

/**
 * The GTID lists a backup records ("0-1-25,1-2-7"): is the transaction already in it? A GTID of a
 * domain the list does not name is not.
 */
export function gtidCoveredBy(g: Gtid, list: string | undefined): boolean {
  return (list ?? '').split(',').map((x) => parseGtid(x)).some((x) => x !== undefined && x.domain === g.domain && x.seq >= g.seq);
}

export interface TransactionSpan {
  gtid: string;
  /** Its GTID event's start: a replay stopping here leaves the transaction out. */
  start: number;
  /** The next boundary: a replay stopping here includes it. */
  end: number;
  /** Header time of its GTID event (seconds, UTC). */
  ts: number;
}

/**
 * Follows one file's events and keeps the transaction spans asked about, without holding the
 * file's events: the span of one GTID, and what lies around one position.
 */
export class BoundaryTracker {
  #open: TransactionSpan | undefined;
  #lastStart = -1;
  #found: TransactionSpan | undefined;
  #firstGtid: string | undefined;
  #lastGtid: string | undefined;
  #atPosition: { kind: 'boundary' } | { kind: 'inside'; span: TransactionSpan } | { kind: 'between'; before: number; after: number } | undefined;
  #pendingInside: TransactionSpan | undefined;

  constructor(private readonly want: { gtid?: string; position?: number }) {}

  push(e: BinlogEvent): void {
    const boundary = isGtidEvent(e.type) || isMetaEvent(e.type);
    if (boundary) this.#close(e.start);
    const pos = this.want.position;
    if (pos !== undefined && this.#atPosition === undefined) {
      if (e.start === pos) {
        if (boundary) this.#atPosition = { kind: 'boundary' };
        else if (this.#open) this.#pendingInside = this.#open;
        else this.#atPosition = { kind: 'boundary' };
      } else if (e.start > pos) {
        this.#atPosition = { kind: 'between', before: this.#lastStart, after: e.start };
      }
    }
    if (isGtidEvent(e.type) && e.gtid !== undefined) {
      this.#open = { gtid: e.gtid, start: e.start, end: e.end, ts: e.ts };
      this.#firstGtid ??= e.gtid;
      this.#lastGtid = e.gtid;
    } else if (boundary) {
      this.#open = undefined;
    }
    this.#lastStart = e.start;
  }

  /** The open transaction ends where the next boundary starts. */
  #close(at: number): void {
    const t = this.#open;
    if (!t) return;
    t.end = at;
    if (t.gtid === this.want.gtid) this.#found ??= { ...t };
    if (this.#pendingInside === t) {
      this.#atPosition = { kind: 'inside', span: { ...t } };
      this.#pendingInside = undefined;
    }
  }

  /** Call with the offset past the file's last complete event once every event was pushed. */
  finish(validBytes: number): void {
    this.#close(validBytes);
    const pos = this.want.position;
    if (pos !== undefined && this.#atPosition === undefined) {
      this.#atPosition = pos === validBytes ? { kind: 'boundary' } : { kind: 'between', before: this.#lastStart, after: validBytes };
    }
  }

  get found(): TransactionSpan | undefined {
    return this.#found;
  }

  get gtidRange(): { first?: string; last?: string } {
    return { ...(this.#firstGtid ? { first: this.#firstGtid } : {}), ...(this.#lastGtid ? { last: this.#lastGtid } : {}) };
  }

  get atPosition(): { kind: 'boundary' } | { kind: 'inside'; span: TransactionSpan } | { kind: 'between'; before: number; after: number } | undefined {
    return this.#atPosition;
  }
}
