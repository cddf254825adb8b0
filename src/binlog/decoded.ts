/**
 * Follows the text that mariadb-binlog (or mysqlbinlog) prints for a replay, as it streams past on
 * its way into the client, and keeps what a report needs: how many transactions went through and
 * the time of the last event that changed data. Each event is introduced by a comment line
 *
 *   #261125 18:25:31 server id 1  end_log_pos 793 CRC32 0x38b8970c 	Xid = 79
 *
 * in the tool's local time zone, so the tool must run with TZ=UTC (the times have whole seconds:
 * that is all the binlog stores). Only the first bytes of a line are ever held: row images and
 * statements may be lines of any length.
 */

const HEADER_RE =
  /^#(\d{2})(\d{2})(\d{2})\s+(\d{1,2}):(\d{2}):(\d{2}) server id (\d+)\s+end_log_pos (\d+)(?:\s+CRC32 0x[0-9a-f]+)?\s*\t(.*)$/;

/** Event names in the header lines that describe the file, not a change. */
const META_RE = /^(?:Start:|Format_desc|Gtid list|Binlog checkpoint|Rotate to|Stop|Previous-GTIDs|Start_encryption|Heartbeat)/;
const GTID_RE = /^(?:GTID (\d+-\d+-\d+)|GTID\s+last_committed|Anonymous_GTID)/;

export interface EventHeader {
  at: Date;
  serverId: number;
  endPos: number;
  /** "Xid = 79", "GTID 0-1-37 trans", "Query\tthread_id=15…", "Rotate to mysql-bin.000005  pos: 4". */
  what: string;
}

/** Parses one header line; undefined for any other line. */
export function parseEventHeader(line: string): EventHeader | undefined {
  const m = HEADER_RE.exec(line);
  if (!m) return undefined;
  const [yy, mo, dd, hh, mi, ss] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const at = new Date(Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss));
  if (Number.isNaN(at.getTime())) return undefined;
  return { at, serverId: Number(m[7]), endPos: Number(m[8]), what: m[9]! };
}

export interface ReplayProgress {
  /** Header lines seen (events, including those a --database filter emptied). */
  events: number;
  /** Transactions (GTID events) that went through. */
  transactions: number;
  lastGtid?: string;
  /** Header time of the first and last event that changes data. */
  firstChangeAt?: Date;
  lastChangeAt?: Date;
  /** Files the stream crossed into (Rotate events). */
  rotations: number;
  /** end_log_pos of the last event seen. */
  lastEndPos?: number;
  /** Header time of the last GTID event (that of lastGtid). */
  lastGtidAt?: Date;
  /**
   * How far the stream got: the file (0 = the first one replayed, counted by the Format
   * description event that opens each file) and the furthest offset printed in it, from event
   * headers (end_log_pos) and "# at N" lines, which the tool prints even for events that a
   * --database filter leaves out.
   */
  file: number;
  position: number;
}

/**
 * Where a statement of the stream begins in the binlogs: the first event printed after the one
 * before it ended, and the line of that event's "# at". One statement may carry several events (a
 * BINLOG statement holds a table map and all the row events of one SQL statement).
 */
interface StatementStart {
  line: number;
  file: number;
  position: number;
}

/** Statements remembered with their line: far more than the pipes hold when the client stops. */
const RECENT = 8192;
/** mariadb-binlog ends every statement with this delimiter. */
const DELIMITER = Buffer.from('/*!*/;');

const MAX_HEAD = 512;
const AT_RE = /^# at (\d+)\s*$/;

/** Consumes the tool's output in chunks of any size. */
export class ReplayTracker {
  readonly progress: ReplayProgress = { events: 0, transactions: 0, rotations: 0, file: -1, position: 0 };
  /** Lines seen so far (the client numbers its input lines from 1). */
  #lines = 0;
  #recent: StatementStart[] = [];
  /** The last statement ended; the next "# at" starts the next one. */
  #ended = true;
  /** The last bytes of the current line (does it end the statement?), without allocating per line. */
  #tail = Buffer.alloc(DELIMITER.length + 1);
  #tailLen = 0;
  #head: Buffer[] = [];
  #headLen = 0;
  #atLineStart = true;
  /** The current line is a comment line (starts with "#"), worth reading. */
  #wanted = false;

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.#atLineStart) {
        this.#wanted = chunk[start] === 0x23; /* # */
        this.#atLineStart = false;
      }
      if (this.#wanted && this.#headLen < MAX_HEAD) {
        const piece = chunk.subarray(start, Math.min(end, start + MAX_HEAD - this.#headLen));
        this.#head.push(Buffer.from(piece));
        this.#headLen += piece.length;
      }
      if (!this.#wanted && end > start) this.#keepTail(chunk, start, end);
      if (nl < 0) break;
      this.#line();
      start = nl + 1;
    }
  }

  end(): void {
    if (!this.#atLineStart) this.#line();
  }

  /**
   * Where the statement on a line of the stream begins in the binlogs (the client names the first
   * line of a statement it refused), when it is among the statements still remembered.
   */
  eventAtLine(line: number): { file: number; position: number } | undefined {
    const r = this.#recent;
    if (r.length === 0 || r[0]!.line > line) return undefined;
    let lo = 0;
    let hi = r.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (r[mid]!.line <= line) lo = mid;
      else hi = mid - 1;
    }
    return { file: r[lo]!.file, position: r[lo]!.position };
  }

  #line(): void {
    this.#lines++;
    if (this.#wanted) {
      const text = Buffer.concat(this.#head).toString('latin1').replace(/\r$/, '');
      const at = AT_RE.exec(text);
      if (at) this.#at(Number(at[1]));
      else {
        const h = parseEventHeader(text);
        if (h) this.#event(h);
      }
    } else {
      let t = this.#tail.subarray(0, this.#tailLen);
      if (t.at(-1) === 0x0d) t = t.subarray(0, -1);
      if (t.length >= DELIMITER.length && t.subarray(-DELIMITER.length).equals(DELIMITER)) this.#ended = true;
    }
    this.#tailLen = 0;
    this.#head = [];
    this.#headLen = 0;
    this.#wanted = false;
    this.#atLineStart = true;
  }

  /** Keeps the last few bytes of chunk[from, to) after those kept from the line so far. */
  #keepTail(chunk: Buffer, from: number, to: number): void {
    const size = this.#tail.length;
    const n = to - from;
    if (n >= size) {
      chunk.copy(this.#tail, 0, to - size, to);
      this.#tailLen = size;
      return;
    }
    const keep = Math.min(this.#tailLen, size - n);
    this.#tail.copyWithin(0, this.#tailLen - keep, this.#tailLen);
    chunk.copy(this.#tail, keep, from, to);
    this.#tailLen = keep + n;
  }

  /** "# at N": the next event starts at N (a new file's first one, 4, comes before its header). */
  #at(position: number): void {
    const p = this.progress;
    if (p.file >= 0 && position >= p.position) {
      p.position = position;
      if (this.#ended) {
        this.#ended = false;
        this.#recent.push({ line: this.#lines, file: p.file, position });
        if (this.#recent.length > RECENT * 2) this.#recent = this.#recent.slice(-RECENT);
      }
    }
  }

  #event(h: EventHeader): void {
    const p = this.progress;
    p.events++;
    p.lastEndPos = h.endPos;
    if (/^Start: binlog/.test(h.what)) {
      p.file++;
      p.position = 0;
    }
    p.position = Math.max(p.position, h.endPos);
    if (/^Rotate to /.test(h.what)) p.rotations++;
    const g = GTID_RE.exec(h.what);
    if (g) {
      p.transactions++;
      if (g[1]) {
        p.lastGtid = g[1];
        p.lastGtidAt = h.at;
      }
    }
    if (!META_RE.test(h.what)) {
      p.firstChangeAt ??= h.at;
      p.lastChangeAt = h.at;
    }
  }
}

/** The replay's stop time as mariadb-binlog --stop-datetime takes it under TZ=UTC. */
export function stopDatetimeArg(at: Date): string {
  return at.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '').replace(/Z$/, '');
}

/**
 * Binlog events carry whole seconds. A replay "to T" stops at the first event of T's second or
 * later (mariadb-binlog stops at the first event whose time is >= --stop-datetime), so nothing
 * that happened after T is ever replayed; what happened earlier within T's own second is left out
 * too, because the binlog cannot tell it from what came after T.
 */
export function stopSecond(target: Date): Date {
  return new Date(Math.floor(target.getTime() / 1000) * 1000);
}
