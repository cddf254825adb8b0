import type { HistoryEntry } from '../pitr/history.js';
import { parseLsn, timelineHex, walFileKind } from '../pitr/wal-names.js';

/**
 * Is this file what its name says? Pure checks on a WAL file's bytes, used before a push stores it
 * and when a legacy copy (stored without a checksum) is fetched. A segment starts with a long page
 * header (access/xlog_internal.h) that names its position, timeline, system and segment size:
 *
 *   0 xlp_magic u16 · 2 xlp_info u16 · 4 xlp_tli u32 · 8 xlp_pageaddr u64 · 16 xlp_rem_len u32
 *   24 xlp_sysid u64 · 32 xlp_seg_size u32 · 36 xlp_xlog_blcksz u32          (little-endian)
 *
 * Each function returns what it learnt, or a reason (a sentence fragment) why the bytes are not
 * that file; callers word the sentence for their side (push refuses, fetch aborts recovery).
 */
export const LONG_HEADER_BYTES = 40;

/** XLOG_PAGE_MAGIC of PostgreSQL 10 to 17: WAL format versions a segment may carry. */
export const XLOG_PAGE_MAGICS: ReadonlyMap<number, number> = new Map([
  [0xd097, 10], [0xd098, 11], [0xd101, 12], [0xd106, 13], [0xd10d, 14], [0xd110, 15], [0xd113, 16], [0xd116, 17],
]);
const XLP_LONG_HEADER = 0x0002;
/** XLP_FIRST_IS_CONTRECORD | XLP_LONG_HEADER | XLP_BKP_REMOVABLE | XLP_FIRST_IS_OVERWRITE_CONTRECORD. */
const XLP_ALL_FLAGS = 0x000f;
const MIN_SEGMENT = 1024 * 1024;
const MAX_SEGMENT = 1024 * 1024 * 1024;

export interface SegmentHead {
  /** PostgreSQL major version the magic belongs to. */
  major: number;
  timeline: number;
  segmentBytes: number;
  pageBytes: number;
  /** pg_control's system identifier, as PostgreSQL prints it (decimal). */
  systemId: string;
}

const powerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;
const hex = (n: number | bigint) => `0x${n.toString(16).toUpperCase()}`;

/** The WAL position a segment name stands for, given the segment size; undefined when the name cannot exist at that size. */
export function segmentStart(name: string, segmentBytes: number): bigint | undefined {
  const log = BigInt(`0x${name.slice(8, 16)}`);
  const seg = BigInt(`0x${name.slice(16, 24)}`);
  const perLog = 0x100000000n / BigInt(segmentBytes);
  if (seg >= perLog) return undefined;
  return (log << 32n) + seg * BigInt(segmentBytes);
}

function formatPos(pos: bigint): string {
  return `${(pos >> 32n).toString(16).toUpperCase()}/${(pos & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * The first page of segment (or .partial) `name`: `head` holds at least its first 40 bytes. The
 * timeline in the header may be lower than the name's: the first segment of a new timeline is a
 * copy of the old one's up to the switch, and its early pages keep the old timeline.
 */
export function checkSegmentHead(name: string, head: Buffer): SegmentHead | string {
  if (head.length === 0) return 'it is empty (0 bytes)';
  if (head.length < LONG_HEADER_BYTES) return `it is ${head.length} bytes, shorter than a WAL page header`;
  const magic = head.readUInt16LE(0);
  const major = XLOG_PAGE_MAGICS.get(magic);
  if (major === undefined) return `its first page has magic ${hex(magic)}, which is not a WAL page of PostgreSQL 10 to 17`;
  const info = head.readUInt16LE(2);
  if ((info & ~XLP_ALL_FLAGS) !== 0 || (info & XLP_LONG_HEADER) === 0) return `its first page has flags ${hex(info)}, not the long header a segment starts with`;
  const segmentBytes = head.readUInt32LE(32);
  if (!powerOfTwo(segmentBytes) || segmentBytes < MIN_SEGMENT || segmentBytes > MAX_SEGMENT) {
    return `its header declares a segment size of ${segmentBytes} bytes, not a power of two from 1 MB to 1 GB`;
  }
  const pageBytes = head.readUInt32LE(36);
  if (!powerOfTwo(pageBytes) || pageBytes < 1024 || pageBytes > 65536) return `its header declares a WAL page size of ${pageBytes} bytes, which PostgreSQL cannot have`;
  const timeline = head.readUInt32LE(4);
  const nameTimeline = parseInt(name.slice(0, 8), 16);
  if (timeline === 0 || timeline > nameTimeline) return `it holds WAL of timeline ${timeline}, but its name says timeline ${nameTimeline}`;
  const want = segmentStart(name, segmentBytes);
  if (want === undefined) return `its name cannot exist with the ${segmentBytes}-byte segments its header declares`;
  const pageaddr = head.readBigUInt64LE(8);
  if (pageaddr !== want) {
    return `it starts at WAL position ${formatPos(pageaddr)}, but its name means ${formatPos(want)}: these are another segment's bytes`;
  }
  return { major, timeline, segmentBytes, pageBytes, systemId: head.readBigUInt64LE(24).toString() };
}

/** A whole segment's size against its header: truncated, padded and torn copies fail here. */
export function checkSegmentSize(segmentBytes: number, bytes: number): string | undefined {
  if (bytes !== segmentBytes) return `it is ${bytes} bytes, but its header declares ${segmentBytes}-byte segments`;
  return undefined;
}

/** A segment against what the archive already knows of the server that writes into it. */
export function checkSegmentBelongs(head: SegmentHead, known: { walSegmentBytes?: number; systemId?: string }): string | undefined {
  if (known.systemId !== undefined && known.systemId !== head.systemId) {
    return `it comes from database system ${head.systemId}, but this archive holds system ${known.systemId}`;
  }
  if (known.walSegmentBytes !== undefined && known.walSegmentBytes !== head.segmentBytes) {
    return `it is a ${head.segmentBytes}-byte segment, but this archive holds ${known.walSegmentBytes}-byte segments`;
  }
  return undefined;
}

/**
 * A segment named for timeline N whose first page is of an older timeline is genuine only where N
 * began: PostgreSQL copies the old timeline's segment up to the switch under the new name. N's
 * history, which PostgreSQL archives before N's segments, must then put N's switchpoint inside
 * this segment. Without it (a hand copy in another order) there is nothing to check against.
 */
export function checkBranchSegment(name: string, head: SegmentHead, history: HistoryEntry[] | undefined): string | undefined {
  const nameTimeline = parseInt(name.slice(0, 8), 16);
  const last = history?.at(-1);
  if (head.timeline === nameTimeline || !last) return undefined;
  const start = segmentStart(name, head.segmentBytes)!;
  const switchpoint = parseLsn(last.switchpoint);
  if (switchpoint < start || switchpoint >= start + BigInt(head.segmentBytes)) {
    return `it holds WAL of timeline ${head.timeline} under a timeline ${nameTimeline} name, but ${timelineHex(nameTimeline)}.history says timeline ${nameTimeline} began at ${last.switchpoint}, outside this segment`;
  }
  return undefined;
}

const MAX_TEXT_FILE = 1024 * 1024;

/** A timeline history file: "parentTLI<TAB>X/Y<TAB>reason" lines, ancestors oldest first, all older than its timeline. */
export function checkHistory(name: string, data: Buffer): string | undefined {
  if (data.length === 0) return 'it is empty (0 bytes)';
  if (data.length > MAX_TEXT_FILE) return `it is ${data.length} bytes, far larger than a timeline history file`;
  const timeline = parseInt(name.slice(0, 8), 16);
  if (timeline < 2) return 'timeline 1 has no history file';
  const text = data.toString('utf8');
  let last = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const m = /^(\d+)\t([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})(\t.*)?$/.exec(line);
    if (!m) return `its line "${line.slice(0, 40)}" is not "timeline<TAB>LSN<TAB>reason"`;
    const parent = Number(m[1]);
    if (parent <= last || parent >= timeline) return `it lists timeline ${parent} out of order for the history of timeline ${timeline}`;
    last = parent;
  }
  if (last === 0) return 'it names no parent timeline';
  return undefined;
}

/** A backup history file (pg_backup_stop): its first line names the segment and offset in its file name. */
export function checkBackupLabel(name: string, data: Buffer): string | undefined {
  if (data.length === 0) return 'it is empty (0 bytes)';
  if (data.length > MAX_TEXT_FILE) return `it is ${data.length} bytes, far larger than a backup history file`;
  const text = data.toString('utf8');
  const m = /^START WAL LOCATION: ([0-9A-F]{1,8})\/([0-9A-F]{1,8}) \(file ([0-9A-F]{24})\)\n/.exec(text);
  if (!m) return 'it does not start with "START WAL LOCATION: X/Y (file …)", as a backup history file does';
  if (m[3] !== name.slice(0, 24)) return `it describes a backup starting in ${m[3]}, not ${name.slice(0, 24)}`;
  if (!/^STOP WAL LOCATION: [0-9A-F]{1,8}\/[0-9A-F]{1,8} \(file [0-9A-F]{24}\)$/m.test(text)) return 'it has no "STOP WAL LOCATION" line';
  return undefined;
}

/** Whole-file checks for the small kinds; segments are checked from their head and size instead. */
export function checkSmallFile(name: string, data: Buffer): string | undefined {
  const kind = walFileKind(name);
  if (kind === 'history') return checkHistory(name, data);
  if (kind === 'backup-label') return checkBackupLabel(name, data);
  return undefined;
}
