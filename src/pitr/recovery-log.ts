import { DEFAULT_SEGMENT_BYTES, parseLsn, parseSegment } from './wal-names.js';

/**
 * Follows a recovering PostgreSQL through its log (see fixtures/postgres-recovery/): which
 * segments it restored, where it stopped, the new timeline, and whether it ended ready or fatal.
 * Reading the log needs no connection, so it works whatever the restored pg_hba.conf allows.
 */
export type RecoveryLine =
  | { kind: 'restored'; segment: string }
  | { kind: 'consistent'; lsn: string }
  | { kind: 'stopping'; before: boolean; xid: string; at: Date }
  | { kind: 'last-commit'; at: Date }
  | { kind: 'redo-start'; lsn: string }
  | { kind: 'redo-progress'; lsn: string }
  | { kind: 'redo-done'; lsn: string }
  | { kind: 'timeline'; timeline: number }
  | { kind: 'ready' }
  | { kind: 'fatal'; message: string }
  | { kind: 'other' };

const TS = /(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}(?::?\d{2})?)/;

function pgTime(text: string): Date {
  const m = TS.exec(text)!;
  const zone = m[2]!.length === 3 ? `${m[2]}:00` : m[2]!;
  return new Date(`${m[1]!.replace(' ', 'T')}${zone}`);
}

export function parseRecoveryLine(line: string): RecoveryLine {
  let m = /restored log file "([0-9A-F]{24})" from archive/.exec(line);
  if (m) return { kind: 'restored', segment: m[1]! };
  m = /consistent recovery state reached at ([0-9A-F]+\/[0-9A-F]+)/.exec(line);
  if (m) return { kind: 'consistent', lsn: m[1]! };
  m = /recovery stopping (before|after) commit of transaction (\d+), time (.+)$/.exec(line);
  if (m) return { kind: 'stopping', before: m[1] === 'before', xid: m[2]!, at: pgTime(m[3]!) };
  m = /last completed transaction was at log time (.+)$/.exec(line);
  if (m) return { kind: 'last-commit', at: pgTime(m[1]!) };
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
  return { kind: 'other' };
}

export interface RecoveryState {
  restored: string[];
  /**
   * How far replay has come, as a byte position: the newest of the redo start, the progress
   * lines, the start of each segment restored (replay needs it, so it got that far) and redo done.
   */
  replayed?: bigint;
  consistentAt?: string;
  stoppedBefore?: { xid: string; at: Date; before: boolean };
  lastCommitAt?: Date;
  redoDoneAt?: string;
  newTimeline?: number;
  ready: boolean;
  fatal?: string;
}

export function emptyRecovery(): RecoveryState {
  return { restored: [], ready: false };
}

function advance(s: RecoveryState, pos: bigint): RecoveryState {
  return s.replayed !== undefined && s.replayed >= pos ? s : { ...s, replayed: pos };
}

export function foldRecovery(s: RecoveryState, line: RecoveryLine): RecoveryState {
  switch (line.kind) {
    case 'restored': {
      const seg = parseSegment(line.segment)!;
      const at = advance(s, BigInt(seg.segNo) * BigInt(DEFAULT_SEGMENT_BYTES));
      return s.restored.includes(line.segment) ? at : { ...at, restored: [...s.restored, line.segment] };
    }
    case 'consistent':
      return { ...advance(s, parseLsn(line.lsn)), consistentAt: line.lsn };
    case 'redo-start':
    case 'redo-progress':
      return advance(s, parseLsn(line.lsn));
    case 'stopping':
      return { ...s, stoppedBefore: { xid: line.xid, at: line.at, before: line.before } };
    case 'last-commit':
      return { ...s, lastCommitAt: line.at };
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
