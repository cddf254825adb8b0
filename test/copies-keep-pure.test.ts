import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateCopy } from '../src/config/copies.js';
import { addPruned, prunedEntries, readPruned, tidyPruned, type PrunedList } from '../src/copies/prune.js';
import { emptyRecord } from '../src/copies/record.js';

/**
 * Issue 17: a copy's own retention (`copy-add … --keep-full N`). The copy keeps its N newest full
 * backups after prune removed them from the primary, and the archive from the oldest kept one's
 * start (history files always); pruned diffs and incrs and older fulls go, so no kept backup
 * loses what it needs and no chain is left half.
 */
const f = (stored: string) => ({ bytes: 1, sha256: 'a'.repeat(64), mtimeMs: 1, stored, storedBytes: 1, storedSha256: 'a'.repeat(64), copiedAt: '2026-12-07T00:00:00Z', verifiedAt: '2026-12-07T00:00:00Z' });
const seg = (n: number) => `wal/00000001/0000000100000000000000${n.toString(16).toUpperCase().padStart(2, '0')}.dbw`;
const F1 = '20261101T000000Z-F';
const I1 = '20261102T000000Z-I';
const F2 = '20261108T000000Z-F';
const F3 = '20261115T000000Z-F';
const F4 = '20261122T000000Z-F';

function record(rels: string[]) {
  return { ...emptyRecord('vault', '/mnt/vault', 'prod', 'postgres'), files: Object.fromEntries(rels.map((r) => [r, f(r)])) };
}

const held = [F1, I1, F2, F3, F4].flatMap((id) => [`backups/${id}/base/base.tar`, `backups/${id}/manifest.json`]);
const wal = [1, 2, 3, 4, 5, 6, 7, 8].map(seg);
// Prune kept only F4 on the primary: F1, its incr, F2 and F3 went, with the WAL before F4's start.
const pruned: PrunedList = {
  formatVersion: 1,
  backups: [F1, I1, F2, F3],
  files: [...wal.slice(0, 7), 'wal/00000001/00000002.history'],
  starts: { [F1]: '000000010000000000000001', [I1]: '000000010000000000000002', [F2]: '000000010000000000000003', [F3]: '000000010000000000000005' },
};

describe('a copy keeping fulls longer than the primary', () => {
  it('without --keep-full, drops exactly what prune removed', () => {
    const gone = prunedEntries(record([...held, ...wal, 'wal/00000001/00000002.history']), pruned);
    expect(gone.filter((r) => r.startsWith('backups/')).map((r) => r.split('/')[1])).toEqual([F1, F1, I1, I1, F2, F2, F3, F3]);
    expect(gone.filter((r) => r.startsWith('wal/'))).toHaveLength(8);
  });

  it('--keep-full 3 keeps F2, F3 (and F4, still primary) with the WAL from F2 on; drops F1 and its incr', () => {
    const gone = prunedEntries(record([...held, ...wal, 'wal/00000001/00000002.history']), pruned, 3);
    const ids = new Set(gone.filter((r) => r.startsWith('backups/')).map((r) => r.split('/')[1]));
    expect([...ids].sort()).toEqual([F1, I1]);
    // F2 starts in segment 3: segments 1 and 2 go, 3..7 stay; the history file stays.
    expect(gone.filter((r) => r.startsWith('wal/')).sort()).toEqual([seg(1), seg(2)]);
  });

  it('--keep-full 1 keeps only the newest full held (the primary has it): the copy then follows prune', () => {
    const gone = prunedEntries(record([...held, ...wal]), pruned, 1);
    expect(new Set(gone.filter((r) => r.startsWith('backups/')).map((r) => r.split('/')[1]))).toEqual(new Set([F1, I1, F2, F3]));
    expect(gone.filter((r) => r.startsWith('wal/'))).toHaveLength(7);
  });

  it('a kept backup whose start prune did not record keeps the whole archive', () => {
    const { starts: _s, ...noStarts } = pruned;
    const gone = prunedEntries(record([...held, ...wal]), noStarts, 2);
    expect(gone.filter((r) => r.startsWith('wal/'))).toEqual([]);
    expect(new Set(gone.map((r) => r.split('/')[1]))).toEqual(new Set([F1, I1, F2]));
  });

  it('the starts survive in pruned.json only while a copy holds their backup', () => {
    const repo = mkdtempSync(join(tmpdir(), 'dbdrill-keep-'));
    try {
      mkdirSync(join(repo, 'copies'));
      addPruned(repo, { backups: [F1, F2], files: [], starts: { [F1]: '000000010000000000000001', [F2]: '000000010000000000000003' } });
      expect(readPruned(repo).starts).toEqual({ [F1]: '000000010000000000000001', [F2]: '000000010000000000000003' });
      tidyPruned(repo, [record([`backups/${F2}/manifest.json`])]);
      expect(readPruned(repo)).toEqual({ formatVersion: 1, backups: [F2], files: [], starts: { [F2]: '000000010000000000000003' } });
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('--keep-full takes a whole number from 1 to 1000, named in one sentence', () => {
    expect(validateCopy({ name: 'vault', dest: '/mnt/vault', keepFull: '12' }, 'copy', '/srv/repo').keepFull).toBe(12);
    for (const bad of ['0', '-1', '1.5', 'many', 1001, '']) {
      expect(() => validateCopy({ name: 'vault', dest: '/mnt/vault', keepFull: bad }, 'copy', '/srv/repo')).toThrow(/keep-full must be a whole number of full backups from 1 to 1000/);
    }
  });
});
