import { dateOf, parsePgTimestamp, type Micros } from './micros.js';
import { DEFAULT_SEGMENT_BYTES, parseLsn, parseSegment } from './wal-names.js';

/**
 * Follows a recovering PostgreSQL through its log (see fixtures/postgres-recovery/): which
 * segments it restored, where it stopped, the new timeline, and whether it ended ready or fatal.
 * Reading the log needs no connection, so it works whatever the restored pg_hba.conf allows.
 */
export type RecoveryLine =
  | { kind: 'restored'; segment: string }
  | { kind: 'consistent'; lsn: string }
  | { kind: 'stopping'; before: boolean; xid: string; at: Date; micros: Micros }
  | { kind: 'stopping-lsn'; before: boolean; lsn: string }
  | { kind: 'stopping-name'; name: string; at: Date }
  | { kind: 'stopping-consistent' }
  | { kind: 'last-commit'; at: Date; micros: Micros }
  /** WAL that could not be read: PostgreSQL's reason, and where when it says. */
  | { kind: 'bad-wal'; message: string; lsn?: string; segment?: string }
  /** What dbdrill wal-fetch (restore_command) said on stderr, which lands in this log. */
  | { kind: 'fetch-error'; message: string }
  | { kind: 'redo-start'; lsn: string }
  | { kind: 'redo-progress'; lsn: string }
  | { kind: 'redo-done'; lsn: string }
  | { kind: 'timeline'; timeline: number }
  | { kind: 'ready' }
  | { kind: 'fatal'; message: string }
  | { kind: 'other' };

/**
 * xlogreader's complaints (PostgreSQL 10–17): in archive recovery each one ends replay as if the
 * WAL ended there, so after a short recovery the last one says why.
 */
const BAD_WAL = /(incorrect resource manager data checksum|invalid record (?:length|offset)|invalid resource manager ID|record with incorrect prev-link|record length \d+ at|contrecord|invalid magic number|invalid info bits|unexpected pageaddr|out-of-sequence timeline ID|WAL file is from different database system|WAL file database system identifier|has wrong size|incorrect hole size|invalid compressed image|out-of-order block_id|invalid block_id|could not restore file|unexpected timeline ID)/;

export function parseRecoveryLine(line: string): RecoveryLine {
  let m = /restored log file "([0-9A-F]{24})" from archive/.exec(line);
  if (m) return { kind: 'restored', segment: m[1]! };
  m = /consistent recovery state reached at ([0-9A-F]+\/[0-9A-F]+)/.exec(line);
  if (m) return { kind: 'consistent', lsn: m[1]! };
  m = /recovery stopping (before|after) (?:commit|abort) of transaction (\d+), time (.+)$/.exec(line);
  if (m) {
    const micros = parsePgTimestamp(m[3]!)!;
    return { kind: 'stopping', before: m[1] === 'before', xid: m[2]!, at: dateOf(micros), micros };
  }
  m = /recovery stopping (before|after) WAL location \(LSN\) "([0-9A-F]+\/[0-9A-F]+)"/.exec(line);
  if (m) return { kind: 'stopping-lsn', before: m[1] === 'before', lsn: m[2]! };
  m = /recovery stopping at restore point "(.*)", time (.+)$/.exec(line);
  if (m) return { kind: 'stopping-name', name: m[1]!, at: dateOf(parsePgTimestamp(m[2]!)!) };
  if (/recovery stopping after reaching consistency/.test(line)) return { kind: 'stopping-consistent' };
  m = /last completed transaction was at log time (.+)$/.exec(line);
  if (m) {
    const micros = parsePgTimestamp(m[1]!)!;
    return { kind: 'last-commit', at: dateOf(micros), micros };
  }
  m = /^dbdrill(?: wal-fetch)?: (.+)$/.exec(line.trim());
  if (m) return { kind: 'fetch-error', message: m[1]! };
  m = /redo starts at ([0-9A-F]+\/[0-9A-F]+)/.exec(line);
  if (m) return { kind: 'redo-start', lsn: m[1]! };
  // log_startup_progress_interval (PostgreSQL 15+), which the restore sets.
  m = /redo in progress, elapsed time: [\d.]+ s, current LSN: ([0-9A-F]+\/[0-9A-F]+)/.exec(line);
  if (m) return { kind: 'redo-progress', lsn: m[1]! };
  m = /redo done at ([0-9A-F]+\/[0-9A-F]+)/.exec(line);
  if (m) return { kind: 'redo-done', lsn: m[1]! };
  m = /selected new timeline ID: (\d+)/.exec(line);
  if (m) return { kind: 'timeline', timeline: Number(m[1]) };
  if (/database system is ready to accept connections/.test(line)) return { kind: 'ready' };
  m = /(?:FATAL|PANIC):\s+(.+)$/.exec(line);
  if (m) return { kind: 'fatal', message: m[1]! };
  m = /(?:LOG|WARNING):\s+(.+)$/.exec(line);
  if (m && BAD_WAL.test(m[1]!)) {
    const message = m[1]!.trim();
    const lsn = /\bat ([0-9A-F]+\/[0-9A-F]+)/.exec(message)?.[1];
    const segment = /\b([0-9A-F]{24})\b/.exec(message)?.[1];
    return { kind: 'bad-wal', message, ...(lsn ? { lsn } : {}), ...(segment ? { segment } : {}) };
  }
  return { kind: 'other' };
}

export interface RecoveryState {
  /** The cluster's WAL segment size, which maps segment names to positions. */
  segmentBytes: number;
  restored: string[];
  /**
   * How far replay has come, as a byte position: the newest of the redo start, the progress
   * lines, the start of each segment restored (replay needs it, so it got that far) and redo done.
   */
  replayed?: bigint;
  consistentAt?: string;
  /** Where a transaction target stopped (before or after that commit). */
  stoppedBefore?: { xid: string; at: Date; micros: Micros; before: boolean };
  stoppedAtLsn?: { lsn: string; before: boolean };
  stoppedAtName?: string;
  stoppedAtConsistency?: boolean;
  lastCommitAt?: Date;
  lastCommitMicros?: Micros;
  /** The last WAL PostgreSQL could not read, and what wal-fetch last complained of. */
  badWal?: { message: string; lsn?: string; segment?: string };
  fetchError?: string;
  redoDoneAt?: string;
  newTimeline?: number;
  ready: boolean;
  fatal?: string;
}

export function emptyRecovery(segmentBytes = DEFAULT_SEGMENT_BYTES): RecoveryState {
  return { segmentBytes, restored: [], ready: false };
}

function advance(s: RecoveryState, pos: bigint): RecoveryState {
  return s.replayed !== undefined && s.replayed >= pos ? s : { ...s, replayed: pos };
}

export function foldRecovery(s: RecoveryState, line: RecoveryLine): RecoveryState {
  switch (line.kind) {
    case 'restored': {
      const seg = parseSegment(line.segment, s.segmentBytes)!;
      const at = advance(s, BigInt(seg.segNo) * BigInt(s.segmentBytes));
      return s.restored.includes(line.segment) ? at : { ...at, restored: [...s.restored, line.segment] };
    }
    case 'consistent':
      return { ...advance(s, parseLsn(line.lsn)), consistentAt: line.lsn };
    case 'redo-start':
    case 'redo-progress':
      return advance(s, parseLsn(line.lsn));
    case 'stopping':
      return { ...s, stoppedBefore: { xid: line.xid, at: line.at, micros: line.micros, before: line.before } };
    case 'stopping-lsn':
      return { ...s, stoppedAtLsn: { lsn: line.lsn, before: line.before } };
    case 'stopping-name':
      return { ...s, stoppedAtName: line.name };
    case 'stopping-consistent':
      return { ...s, stoppedAtConsistency: true };
    case 'last-commit':
      return { ...s, lastCommitAt: line.at, lastCommitMicros: line.micros };
    case 'bad-wal': {
      const { kind: _, ...bad } = line;
      return { ...s, badWal: bad };
    }
    case 'fetch-error':
      return { ...s, fetchError: line.message };
    case 'redo-done':
      return { ...advance(s, parseLsn(line.lsn)), redoDoneAt: line.lsn };
    case 'timeline':
      return { ...s, newTimeline: line.timeline };
    case 'ready':
      return { ...s, ready: true };
    case 'fatal':
      return s.fatal ? s : { ...s, fatal: line.message };
    default:
      return s;
  }
}
