/**
 * PostgreSQL WAL file names: 24 hex digits, timeline (8) + log (8) + segment (8). How many
 * segments a log id holds depends on the cluster's segment size (initdb --wal-segsize, 1 MB to
 * 1 GB; 16 MB by default), so every function that maps names to positions takes it. Pure
 * functions, so the archive can be reasoned about from names alone.
 */
export const SEGMENT_RE = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/;
export const HISTORY_RE = /^([0-9A-F]{8})\.history$/;
export const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;

export interface Segment {
  timeline: number;
  /** Position of the segment in the WAL stream: log * segmentsPerLog + seg. */
  segNo: number;
}

/** initdb accepts powers of two from 1 MB to 1 GB. */
export function isSegmentSize(bytes: number): boolean {
  return Number.isInteger(bytes) && bytes >= 1024 * 1024 && bytes <= 1024 * 1024 * 1024 && (bytes & (bytes - 1)) === 0;
}

export function segmentsPerLog(segmentBytes = DEFAULT_SEGMENT_BYTES): number {
  return 0x100000000 / segmentBytes;
}

export function parseSegment(name: string, segmentBytes = DEFAULT_SEGMENT_BYTES): Segment | undefined {
  const m = SEGMENT_RE.exec(name);
  if (!m) return undefined;
  return { timeline: parseInt(m[1]!, 16), segNo: parseInt(m[2]!, 16) * segmentsPerLog(segmentBytes) + parseInt(m[3]!, 16) };
}

export function segmentName(s: Segment, segmentBytes = DEFAULT_SEGMENT_BYTES): string {
  const per = segmentsPerLog(segmentBytes);
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(s.timeline)}${hex(Math.floor(s.segNo / per))}${hex(s.segNo % per)}`;
}

export function timelineHex(timeline: number): string {
  return timeline.toString(16).toUpperCase().padStart(8, '0');
}

/** LSN "X/Y" as a bigint byte position. */
export function parseLsn(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!m) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(pos: bigint): string {
  return `${(pos >> 32n).toString(16).toUpperCase()}/${(pos & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The segment holding an LSN. */
export function segmentOfLsn(timeline: number, lsn: string, segmentBytes = DEFAULT_SEGMENT_BYTES): Segment {
  return { timeline, segNo: Number(parseLsn(lsn) / BigInt(segmentBytes)) };
}

/** The LSN where a segment begins. */
export function segmentStart(segNo: number, segmentBytes = DEFAULT_SEGMENT_BYTES): bigint {
  return BigInt(segNo) * BigInt(segmentBytes);
}

/** What kind of file archive_command was handed, by its name. */
export function walFileKind(name: string): 'segment' | 'history' | 'backup-label' | 'partial' | undefined {
  if (SEGMENT_RE.test(name)) return 'segment';
  if (HISTORY_RE.test(name)) return 'history';
  if (/^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$/.test(name)) return 'backup-label';
  if (/^[0-9A-F]{24}\.partial$/.test(name)) return 'partial';
  return undefined;
}

/**
 * How an archived WAL file is stored: `<name>.dbw` (a header with its checksums, then the
 * payload; src/wal/format.ts). Earlier versions stored `<segment>` plain or `<segment>.zst`;
 * those legacy forms stay readable.
 */
export const DBW_SUFFIX = '.dbw';
/** Legacy: wal-push --compress zstd stored segments as <segment>.zst before the .dbw form. */
export const ZSTD_SUFFIX = '.zst';

/**
 * The WAL file an archive directory entry holds, in any stored form (`.dbw`, legacy plain, legacy
 * `.zst` of a segment); undefined for anything else (temp files, archive.json).
 */
export function storedWalName(entry: string): string | undefined {
  let name = entry;
  if (entry.endsWith(DBW_SUFFIX)) name = entry.slice(0, -DBW_SUFFIX.length);
  else if (entry.length === 28 && entry.endsWith(ZSTD_SUFFIX)) name = entry.slice(0, 24);
  return walFileKind(name) ? name : undefined;
}

/** The segment an archive directory entry holds, in any stored form; undefined for anything else. */
export function archivedSegment(entry: string): string | undefined {
  const name = storedWalName(entry);
  return name && SEGMENT_RE.test(name) ? name : undefined;
}

/** The timeline whose history file an archive entry holds (`0000000N.history[.dbw]`), or undefined. */
export function archivedHistory(entry: string): number | undefined {
  const name = storedWalName(entry);
  const m = name ? HISTORY_RE.exec(name) : null;
  return m ? parseInt(m[1]!, 16) : undefined;
}
