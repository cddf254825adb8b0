import { createReadStream } from 'node:fs';
import { crc32 } from 'node:zlib';

/**
 * Reads a binary log file's event headers, without any tool and without decoding rows. A v4
 * binlog is the magic "\xfebin" followed by events, each with a 19-byte header:
 *
 *   timestamp u32 (seconds, UTC) · type u8 · server_id u32 · event_length u32 · next_position u32 · flags u16
 *
 * The first event is the Format_description event; its flag LOG_EVENT_BINLOG_IN_USE_F stays set
 * while the server writes the file and is cleared when the server closes it, and a closed file
 * ends with a Rotate event (naming the next file) or a Stop event (server shut down). With
 * binlog_checksum=CRC32 every event ends with the CRC-32 of the rest of it, checked here too.
 * Walking the headers costs one pass and no memory per event, so large files index in seconds.
 */

const MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
const HEADER = 19;
const IN_USE_FLAG = 0x1;

export const EVENT = {
  QUERY: 2,
  TABLE_MAP: 19,
  STOP: 3,
  ROTATE: 4,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  MYSQL_GTID: 33,
  MYSQL_ANONYMOUS_GTID: 34,
  MYSQL_PREVIOUS_GTIDS: 35,
  ANNOTATE_ROWS: 160,
  BINLOG_CHECKPOINT: 161,
  GTID: 162,
  GTID_LIST: 163,
  START_ENCRYPTION: 164,
} as const;

/** Events that describe the file or the server, not a change to data. */
const META = new Set<number>([
  EVENT.STOP, EVENT.ROTATE, EVENT.FORMAT_DESCRIPTION, EVENT.MYSQL_PREVIOUS_GTIDS, EVENT.BINLOG_CHECKPOINT, EVENT.GTID_LIST,
  EVENT.START_ENCRYPTION, 27 /* heartbeat */,
]);
const GTIDS = new Set<number>([EVENT.GTID, EVENT.MYSQL_GTID, EVENT.MYSQL_ANONYMOUS_GTID]);

export type BinlogEnd =
  /** Closed by rotation: the last event names the next file. */
  | 'rotate'
  /** Closed by a server shutdown. */
  | 'stop'
  /** Ends on a complete event but is not closed (the server still writes it, or crashed). */
  | 'open'
  /** Ends inside an event (copied while being written, or cut short). */
  | 'truncated'
  /** An encrypted binlog: headers after the Start_encryption event cannot be read. */
  | 'encrypted'
  | 'not-binlog';

export interface BinlogScan {
  bytes: number;
  /** Offset just past the last complete event. */
  validBytes: number;
  events: number;
  /** GTID events: one per transaction (and per DDL statement). */
  transactions: number;
  serverVersion?: string;
  serverId?: number;
  checksum?: 'crc32' | 'none';
  /** Header time of the Format_description event: when the server opened the file. */
  firstEventAt?: string;
  /** Header time of the last complete event (the Rotate of a closed file: when it was closed). */
  lastEventAt?: string;
  /** Header time of the last event that changes data (not a Rotate, checkpoint or GTID list). */
  lastChangeAt?: string;
  /** The Format_description event still says the server is writing the file. */
  inUse: boolean;
  end: BinlogEnd;
  /** The next file, from a closing Rotate event. */
  rotateTo?: string;
  /** Events whose CRC-32 does not match, and the offset of the first. */
  badChecksums: number;
  firstBadChecksumAt?: number;
  /** A sentence when the file is not a well-formed binlog. */
  problem?: string;
}

/** One event as the walker saw it: where it lies, its type and header time. */
export interface BinlogEvent {
  start: number;
  /** Offset just past the event (the next event's start). */
  end: number;
  type: number;
  /** Header time, seconds since the epoch (UTC). */
  ts: number;
  /** MariaDB GTID events: domain-server-sequence. */
  gtid?: string;
  /**
   * With `bodies` on: the first bytes of a Query, Annotate_rows or Table_map event after its
   * header (never its CRC), enough for the schema and the start of the statement.
   */
  body?: Buffer;
}

/** Events that describe the file or the server, not a change to data. */
export function isMetaEvent(type: number): boolean {
  return META.has(type);
}

export function isGtidEvent(type: number): boolean {
  return GTIDS.has(type);
}

/** True for a file a restore may replay to its end and the archive may keep for good. */
export function isClosed(s: BinlogScan): boolean {
  return (s.end === 'rotate' || s.end === 'stop') && !s.inUse && s.badChecksums === 0 && s.problem === undefined;
}

/** Why a scanned file is not one a restore may replay to its end; undefined when it is. */
export function whyNotClosed(s: BinlogScan): string | undefined {
  if (isClosed(s)) return undefined;
  if (s.problem) return s.problem;
  if (s.badChecksums > 0) return `${s.badChecksums} event(s) fail their CRC-32 check, the first at offset ${s.firstBadChecksumAt}`;
  if (s.inUse) return 'the server marks it as in use (it was copied while being written)';
  return `it ends with no Rotate or Stop event (${s.end})`;
}

/** Events whose bodies are read: small, and few enough to keep whole. */
const KEPT = new Set<number>([EVENT.FORMAT_DESCRIPTION, EVENT.ROTATE, EVENT.GTID]);
/** Events whose first bytes say which schema and statement they are (kept when asked for). */
const HEADED = new Set<number>([EVENT.QUERY, EVENT.ANNOTATE_ROWS, EVENT.TABLE_MAP]);
const HEAD_BYTES = HEADER + 1024;

/** The event being read: where it starts, its header fields, its running CRC and kept bytes. */
interface EventState {
  start: number;
  len: number;
  type: number;
  ts: number;
  flags: number;
  /** Header and body of the few events whose contents are read (Format_description, Rotate). */
  keep: Buffer[];
  kept: number;
  crc: number;
  /** The stored CRC (the event's last 4 bytes). */
  tail: Buffer[];
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** Feeds a binlog's bytes in chunks of any size; result() describes what was seen. */
export class BinlogWalker {
  #pos = 0;
  #magic = Buffer.alloc(0);
  #header = Buffer.alloc(0);
  /** The event being read. */
  #ev: EventState | undefined;
  #checksum: boolean | undefined;
  #encrypted = false;
  #scan: BinlogScan = { bytes: 0, validBytes: 0, events: 0, transactions: 0, inUse: false, end: 'open', badChecksums: 0 };

  /**
   * onEvent sees every complete event, in order (for finding transaction boundaries); with
   * `bodies`, the first bytes of statement events come along (for listing transactions).
   */
  constructor(
    private readonly onEvent?: (e: BinlogEvent) => void,
    private readonly opts: { bodies?: boolean } = {},
  ) {}

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.#scan.problem && !this.#encrypted) {
      if (this.#pos < 4) {
        const take = Math.min(4 - this.#pos, chunk.length - off);
        this.#magic = Buffer.concat([this.#magic, chunk.subarray(off, off + take)]);
        off += take;
        this.#pos += take;
        if (this.#pos === 4 && !this.#magic.equals(MAGIC)) this.#fail('not-binlog', 'the file does not start with the binlog magic number');
        else if (this.#pos === 4) this.#scan.validBytes = 4;
        continue;
      }
      if (!this.#ev) {
        const take = Math.min(HEADER - this.#header.length, chunk.length - off);
        this.#header = Buffer.concat([this.#header, chunk.subarray(off, off + take)]);
        off += take;
        this.#pos += take;
        if (this.#header.length < HEADER) continue;
        const h = this.#header;
        this.#header = Buffer.alloc(0);
        const len = h.readUInt32LE(9);
        const start = this.#pos - HEADER;
        if (len < HEADER) {
          this.#fail('truncated', `the event at offset ${start} claims a length of ${len} bytes`);
          break;
        }
        const next = h.readUInt32LE(13);
        if (next !== 0 && next !== start + len) {
          this.#fail('truncated', `the event at offset ${start} says it ends at ${next}, but its length puts the end at ${start + len}`);
          break;
        }
        const type = h[4]!;
        const flags = h.readUInt16LE(17);
        // The server sets and clears the in-use flag in place without recomputing the CRC, which
        // is therefore that of the header with the flag clear.
        let hashed = h;
        if (type === EVENT.FORMAT_DESCRIPTION && (flags & IN_USE_FLAG) !== 0) {
          hashed = Buffer.from(h);
          hashed.writeUInt16LE(flags & ~IN_USE_FLAG, 17);
        }
        this.#ev = { start, len, type, ts: h.readUInt32LE(0), flags, keep: [h], kept: HEADER, crc: crc32(hashed), tail: [] };
        if (this.#scan.serverId === undefined) this.#scan.serverId = h.readUInt32LE(5);
      }
      const ev = this.#ev;
      const done = this.#pos - ev.start;
      const take = Math.min(ev.len - done, chunk.length - off);
      const piece = chunk.subarray(off, off + take);
      // Kept whole: the Format_description and Rotate events (small). Everything else is hashed
      // as it passes and forgotten; the last 4 bytes (the stored CRC) are set aside.
      if (KEPT.has(ev.type)) ev.keep.push(Buffer.from(piece));
      else if (this.opts.bodies && HEADED.has(ev.type) && ev.kept < HEAD_BYTES) {
        const part = piece.subarray(0, HEAD_BYTES - ev.kept);
        ev.keep.push(Buffer.from(part));
        ev.kept += part.length;
      }
      const crcEnd = ev.len - 4;
      const hashed = piece.subarray(0, Math.max(0, Math.min(take, crcEnd - done)));
      if (hashed.length > 0) ev.crc = crc32(hashed, ev.crc);
      if (done + take > crcEnd) ev.tail.push(Buffer.from(piece.subarray(Math.max(0, crcEnd - done))));
      off += take;
      this.#pos += take;
      if (this.#pos - ev.start === ev.len) this.#finish(ev);
    }
    this.#scan.bytes += chunk.length;
  }

  #finish(ev: EventState): void {
    this.#ev = undefined;
    const s = this.#scan;
    const body = KEPT.has(ev.type) ? Buffer.concat(ev.keep) : undefined;
    if (ev.type === EVENT.FORMAT_DESCRIPTION && body) {
      // binlog_version u16, server_version char[50], create_timestamp u32, header_length u8,
      // post-header lengths…, then (servers with checksums) checksum_alg u8 and the CRC.
      s.serverVersion = body.subarray(HEADER + 2, HEADER + 52).toString('latin1').replace(/\0.*$/s, '');
      s.inUse = (ev.flags & IN_USE_FLAG) !== 0;
      const alg = body.length >= HEADER + 57 ? body[body.length - 5] : 0;
      this.#checksum = alg === 1;
      s.checksum = this.#checksum ? 'crc32' : 'none';
    }
    if (this.#checksum) {
      const tail = Buffer.concat(ev.tail);
      if (tail.length !== 4 || tail.readUInt32LE(0) !== ev.crc >>> 0) {
        s.badChecksums++;
        s.firstBadChecksumAt ??= ev.start;
      }
    }
    s.events++;
    s.validBytes = ev.start + ev.len;
    const at = iso(ev.ts);
    s.firstEventAt ??= at;
    s.lastEventAt = at;
    if (!META.has(ev.type)) s.lastChangeAt = at;
    if (GTIDS.has(ev.type)) s.transactions++;
    if (ev.type === EVENT.ROTATE && body) {
      // position u64, then the next file's name (and the CRC when checksums are on).
      s.rotateTo = body.subarray(HEADER + 8, body.length - (this.#checksum ? 4 : 0)).toString('latin1');
      s.end = 'rotate';
    } else if (ev.type === EVENT.STOP) {
      s.end = 'stop';
    } else {
      s.end = 'open';
      delete s.rotateTo;
    }
    if (ev.type === EVENT.START_ENCRYPTION) {
      this.#encrypted = true;
      s.end = 'encrypted';
    }
    if (this.onEvent) {
      const e: BinlogEvent = { start: ev.start, end: ev.start + ev.len, type: ev.type, ts: ev.ts };
      // MariaDB's GTID event: sequence number u64, domain u32, flags u8; the server id is the header's.
      if (ev.type === EVENT.GTID && body && body.length >= HEADER + 12) {
        e.gtid = `${body.readUInt32LE(HEADER + 8)}-${ev.keep[0]!.readUInt32LE(5)}-${body.readBigUInt64LE(HEADER)}`;
      }
      if (this.opts.bodies && HEADED.has(ev.type)) {
        const head = Buffer.concat(ev.keep);
        e.body = head.subarray(HEADER, Math.min(head.length, ev.len - (this.#checksum ? 4 : 0)));
      }
      this.onEvent(e);
    }
  }

  #fail(end: BinlogEnd, problem: string): void {
    this.#scan.end = end;
    this.#scan.problem = problem;
  }

  result(): BinlogScan {
    const s = { ...this.#scan };
    if (!s.problem && !this.#encrypted) {
      if (this.#pos < 4) {
        s.end = 'not-binlog';
        s.problem = 'the file is shorter than the binlog magic number';
      } else if (this.#ev || this.#header.length > 0) {
        s.end = 'truncated';
        s.problem = `the file ends inside an event (at offset ${s.validBytes} of ${this.#pos})`;
      }
    }
    return s;
  }
}

export function scanBinlogBuffer(buf: Buffer, onEvent?: (e: BinlogEvent) => void, opts: { bodies?: boolean } = {}): BinlogScan {
  const w = new BinlogWalker(onEvent, opts);
  w.push(buf);
  return w.result();
}

export async function scanBinlogFile(path: string, signal?: AbortSignal, onEvent?: (e: BinlogEvent) => void): Promise<BinlogScan> {
  const w = new BinlogWalker(onEvent);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) w.push(chunk as Buffer);
  return w.result();
}
