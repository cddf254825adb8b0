import { segmentName, segmentOfLsn } from '../../pitr/wal-names.js';

/**
 * Reads what `pg_basebackup -P -v` prints on a pipe (one line per update, see
 * fixtures/pg_basebackup/): phases, progress in kB, and the WAL start/end points.
 */
export type BaseBackupLine =
  | { kind: 'phase'; phase: 'checkpoint' | 'copying' | 'wal' | 'sync' | 'done' }
  | { kind: 'progress'; doneBytes: number; totalBytes: number; tablespacesDone: number; tablespaces: number }
  | { kind: 'start'; lsn: string; timeline: number }
  | { kind: 'end'; lsn: string }
  | { kind: 'other'; text: string };

const PROGRESS = /^\s*(\d+)\/(\d+) kB \((\d+)%\), (\d+)\/(\d+) tablespaces?/;
const START = /write-ahead log start point: ([0-9A-F]+\/[0-9A-F]+) on timeline (\d+)/i;
const END = /write-ahead log end point: ([0-9A-F]+\/[0-9A-F]+)/i;

export function parseBaseBackupLine(text: string): BaseBackupLine {
  const p = PROGRESS.exec(text);
  if (p) {
    return {
      kind: 'progress',
      doneBytes: Number(p[1]) * 1024,
      totalBytes: Number(p[2]) * 1024,
      tablespacesDone: Number(p[4]),
      tablespaces: Number(p[5]),
    };
  }
  const s = START.exec(text);
  if (s) return { kind: 'start', lsn: s[1]!, timeline: Number(s[2]) };
  const e = END.exec(text);
  if (e) return { kind: 'end', lsn: e[1]! };
  // "waiting for checkpoint" is its own phase: a spread checkpoint can take minutes and must not
  // look like a hang.
  if (/waiting for checkpoint/.test(text)) return { kind: 'phase', phase: 'checkpoint' };
  if (/checkpoint completed/.test(text)) return { kind: 'phase', phase: 'copying' };
  if (/waiting for background process to finish streaming/.test(text)) return { kind: 'phase', phase: 'wal' };
  if (/syncing data to disk/.test(text)) return { kind: 'phase', phase: 'sync' };
  if (/base backup completed/.test(text)) return { kind: 'phase', phase: 'done' };
  return { kind: 'other', text };
}

/** WAL segment file name for an LSN, given the cluster's segment size (the server's wal_segment_size). */
export function walFileName(timeline: number, lsn: string, segmentBytes: number): string {
  return segmentName(segmentOfLsn(timeline, lsn, segmentBytes), segmentBytes);
}
