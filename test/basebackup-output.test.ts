import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBaseBackupLine, walFileName } from '../src/engines/postgres/basebackup-output.js';

describe('pg_basebackup output (captured fixture)', () => {
  const lines = readFileSync(new URL('../fixtures/pg_basebackup/progress-verbose.txt', import.meta.url), 'utf8').split('\n').filter(Boolean);
  const parsed = lines.map(parseBaseBackupLine);

  it('finds the WAL start and end points and the timeline', () => {
    expect(parsed.find((p) => p.kind === 'start')).toEqual({ kind: 'start', lsn: '0/7000028', timeline: 1 });
    expect(parsed.find((p) => p.kind === 'end')).toEqual({ kind: 'end', lsn: '0/7000100' });
  });

  it('reads progress in bytes, rising to the total', () => {
    const progress = parsed.filter((p) => p.kind === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress[0]).toEqual({ kind: 'progress', doneBytes: 32772 * 1024, totalBytes: 99701 * 1024, tablespacesDone: 0, tablespaces: 1 });
    expect(progress.at(-1)).toMatchObject({ doneBytes: 99712 * 1024, totalBytes: 99712 * 1024, tablespacesDone: 1 });
  });

  it('names the phases in order, checkpoint first', () => {
    const phases = parsed.flatMap((p) => (p.kind === 'phase' ? [p.phase] : []));
    expect(phases).toEqual(['checkpoint', 'copying', 'wal', 'sync', 'done']);
  });

  it('maps LSNs to WAL file names for the cluster\'s segment size', () => {
    const MiB = 1024 * 1024;
    expect(walFileName(1, '0/7000028', 16 * MiB)).toBe('000000010000000000000007');
    expect(walFileName(2, '1/FF000000', 16 * MiB)).toBe('0000000200000001000000FF');
    // initdb --wal-segsize=1: 4096 segments per log id (issue 11 saw …02 here, as if 16 MiB).
    expect(walFileName(1, '0/2C000D8', MiB)).toBe('00000001000000000000002C');
    expect(walFileName(1, '1/FFF00000', MiB)).toBe('000000010000000100000FFF');
    // --wal-segsize=64: 64 segments per log id.
    expect(walFileName(1, '0/C4000028', 64 * MiB)).toBe('000000010000000000000031');
  });
});
