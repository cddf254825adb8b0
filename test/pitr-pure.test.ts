import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastCommitInDump } from '../src/engines/postgres/waldump.js';
import { contiguousEnd, findGaps, readInventory, type WalInventory } from '../src/pitr/inventory.js';
import { parseHistory } from '../src/pitr/history.js';
import { planRestore } from '../src/pitr/plan.js';
import { emptyRecovery, foldRecovery, parseRecoveryLine, type RecoveryState } from '../src/pitr/recovery-log.js';
import { replayProgress } from '../src/engines/postgres/pitr-restore.js';
import { parseRestoreTarget, parseRestoreTime } from '../src/pitr/time.js';
import { archivedSegment, parseSegment, segmentName, segmentOfLsn, walFileKind } from '../src/pitr/wal-names.js';
import { computeWindow, describeWindow } from '../src/pitr/window.js';
import type { Manifest } from '../src/repo/manifest.js';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');

describe('WAL names', () => {
  it('round-trips names and finds the segment of an LSN', () => {
    const s = parseSegment('0000000200000001000000FF')!;
    expect(s).toEqual({ timeline: 2, segNo: 256 + 255 });
    expect(segmentName(s)).toBe('0000000200000001000000FF');
    expect(segmentName(segmentOfLsn(1, '0/4000678'))).toBe('000000010000000000000004');
    expect(walFileKind('00000002.history')).toBe('history');
    expect(walFileKind('000000010000000000000002.00000028.backup')).toBe('backup-label');
    expect(walFileKind('../../etc/passwd')).toBeUndefined();
  });
});

describe('restore times', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  it('accepts ISO times with a zone and relative times', () => {
    expect(parseRestoreTime('2026-11-24T14:30:00Z', now).toISOString()).toBe('2026-11-24T14:30:00.000Z');
    expect(parseRestoreTime('2026-11-24 15:30+01:00', now).toISOString()).toBe('2026-11-24T14:30:00.000Z');
    expect(parseRestoreTime('2026-11-24T15:30:00.250+0100', now).toISOString()).toBe('2026-11-24T14:30:00.250Z');
    expect(parseRestoreTime('-15m', now).toISOString()).toBe('2026-11-25T11:45:00.000Z');
    expect(parseRestoreTime('-1h30m', now).toISOString()).toBe('2026-11-25T10:30:00.000Z');
  });
  it('refuses a time without a zone, saying how to add one', () => {
    expect(() => parseRestoreTime('2026-11-24 14:30', now)).toThrow('The time "2026-11-24 14:30" has no time zone; add one, e.g. "2026-11-24T14:30Z" for UTC');
    expect(() => parseRestoreTime('yesterday', now)).toThrow(/is not a time/);
  });
  it('takes exactly one kind of target', () => {
    expect(parseRestoreTarget({ to: 'latest' })).toEqual({ kind: 'latest' });
    expect(parseRestoreTarget({ lsn: '0/3000028' })).toEqual({ kind: 'lsn', lsn: '0/3000028' });
    expect(() => parseRestoreTarget({ to: 'latest', xid: '5' })).toThrow(/exactly one restore target/);
  });
});

describe('archive inventory, window and plan', () => {
  const inv = (segs: number[], tl = 1): WalInventory => ({ timelines: new Map([[tl, segs]]), histories: [], newestArchivedAt: new Map([[tl, Date.parse('2026-11-25T10:00:00Z')]]) });
  const backup = (id: string, startSeg: number, consistentAt: string): Manifest => ({
    formatVersion: 1, id, target: 't', engine: 'postgres', kind: 'physical', type: 'full', status: 'complete',
    tool: { name: 'pg_basebackup', version: '15', argv: [] }, serverVersion: '15.18', startedAt: consistentAt, sizeBytes: 1000, files: [],
    postgres: { timeline: 1, startLsn: `0/${(startSeg * 0x1000000 + 0x28).toString(16).toUpperCase()}`, stopLsn: `0/${(startSeg * 0x1000000 + 0x100).toString(16).toUpperCase()}`, consistentAt },
  });
  // Segment n's last commit: 09:00 + n minutes.
  const lastCommit = (_tl: number, seg: number) => new Date(Date.parse('2026-11-25T09:00:00Z') + seg * 60_000);

  it('reads plain and .zst segments from disk alike, counting a segment stored both ways once', () => {
    const root = mkdtempSync(join(tmpdir(), 'dbdrill-inv-'));
    try {
      mkdirSync(join(root, '00000001'));
      mkdirSync(join(root, '00000002'));
      for (const f of ['000000010000000000000002', '000000010000000000000003.zst', '000000010000000000000003', '000000010000000000000005.zst',
        '000000010000000000000002.00000028.backup', '.000000010000000000000006.zst.1a2b3c4d.tmp', '000000010000000000000007.zstd', '000000020000000000000005.zst']) {
        writeFileSync(join(root, f.startsWith('00000002') ? '00000002' : '00000001', f), 'x');
      }
      writeFileSync(join(root, '00000002.history'), '1\t0/5000000\tno recovery target specified\n');
      const i = readInventory(root);
      expect(i.timelines).toEqual(new Map([[1, [2, 3, 5]], [2, [5]]]));
      expect(i.histories).toEqual([2]);
      expect(findGaps(i)).toEqual([{ timeline: 1, from: 4, to: 4 }]);
      expect(archivedSegment('000000010000000000000005.zst')).toBe('000000010000000000000005');
      expect(archivedSegment('00000002.history')).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('finds gaps and the gap-free run from a start', () => {
    const i = inv([2, 3, 4, 6, 7]);
    expect(findGaps(i)).toEqual([{ timeline: 1, from: 5, to: 5 }]);
    expect(contiguousEnd(i, 1, 2)).toBe(4);
    expect(contiguousEnd(i, 1, 6)).toBe(7);
    expect(contiguousEnd(i, 1, 5)).toBeUndefined();
  });

  it('the window runs from the first backup to the last commit reachable without a gap', () => {
    const i = inv([2, 3, 4, 5, 6]);
    const w = computeWindow([backup('20261125T090130Z-F', 2, '2026-11-25T09:01:30Z')], i, lastCommit);
    expect(w.from).toBe('2026-11-25T09:01:30.000Z');
    expect(w.to).toBe('2026-11-25T09:06:00.000Z');
    expect(w.gaps).toEqual([]);
    expect(w.segments).toBe(5);
    expect(w.newestSegment).toBe('000000010000000000000006');
  });

  it('plans from the newest backup that became consistent before the target', () => {
    const i = inv([2, 3, 4, 5, 6, 7, 8]);
    const ms = [backup('20261125T090130Z-F', 2, '2026-11-25T09:01:30Z'), backup('20261125T090430Z-F', 5, '2026-11-25T09:04:30Z')];
    const w = computeWindow(ms, i, lastCommit);
    const early = planRestore(parseRestoreTarget({ to: '2026-11-25T09:03:00Z' }), ms, i, w, lastCommit);
    expect(early.backup.id).toBe('20261125T090130Z-F');
    const late = planRestore(parseRestoreTarget({ to: '2026-11-25T09:07:00Z' }), ms, i, w, lastCommit);
    expect(late.backup.id).toBe('20261125T090430Z-F');
    expect(late.settings).toMatchObject({ recovery_target_time: '2026-11-25 09:07:00.000000+00', recovery_target_timeline: '1' });
    expect(late.walFrom).toBe('000000010000000000000005');
    expect(late.walTo).toBe('000000010000000000000008');
    expect(late.segments).toBe(4);
    // Replay runs from the backup's start LSN to the end of its last archived segment.
    expect(late.startLsn).toBe('0/5000028');
    expect(late.endLsn).toBe('0/9000000');
    expect(planRestore(parseRestoreTarget({ lsn: '0/6000100' }), ms, i, w, lastCommit).endLsn).toBe('0/6000100');
  });

  it('counts segments per timeline and refuses a --timeline the archive cannot follow', () => {
    const i: WalInventory = { timelines: new Map([[1, [2, 3, 4, 5]], [2, [5, 6]], [3, [6]]]), histories: [2], newestArchivedAt: new Map() };
    const ms = [backup('20261125T090130Z-F', 2, '2026-11-25T09:01:30Z')];
    const w = computeWindow(ms, i, lastCommit);
    expect(w.perTimeline).toEqual([
      { timeline: 1, segments: 4, first: '000000010000000000000002', last: '000000010000000000000005', history: false },
      { timeline: 2, segments: 2, first: '000000020000000000000005', last: '000000020000000000000006', history: true },
      { timeline: 3, segments: 1, first: '000000030000000000000006', last: '000000030000000000000006', history: false },
    ]);
    const latest = parseRestoreTarget({ to: 'latest' });
    expect(() => planRestore(latest, ms, i, w, lastCommit, { timeline: 7 })).toThrow(
      "Timeline 7 is not in the archive, which holds segments of timelines 1, 2, 3 and history files of 2; give one of those with --timeline, or leave it out to follow the newest timeline the backups reach.",
    );
    expect(() => planRestore(latest, ms, i, w, lastCommit, { timeline: 3 })).toThrow(
      'Timeline 3 has no history file in the archive (wal/00000003.history), so recovery cannot follow it from backup 20261125T090130Z-F on timeline 1; archive that file or leave --timeline out.',
    );
    expect(() => planRestore(latest, ms, i, w, lastCommit, { timeline: 2, timelineHistory: [{ parent: 4, switchpoint: '0/5000000' }] })).toThrow(
      /^Timeline 2 did not branch from timeline 1 of backup 20261125T090130Z-F \(its history, wal\/00000002.history, names timeline 4\)/,
    );
    const ok = planRestore(latest, ms, i, w, lastCommit, { timeline: 2, timelineHistory: parseHistory('1\t0/5000000\tno recovery target specified\n') });
    expect(ok.settings.recovery_target_timeline).toBe('2');
    expect(ok.notes).toContain('following timeline 2 from the backup\'s timeline 1');
  });

  it('refuses targets before the first backup and past the archive, showing the window', () => {
    const i = inv([2, 3, 4]);
    const ms = [backup('20261125T090130Z-F', 2, '2026-11-25T09:01:30Z')];
    const w = computeWindow(ms, i, lastCommit);
    expect(() => planRestore(parseRestoreTarget({ to: '2026-11-25T08:00:00Z' }), ms, i, w, lastCommit)).toThrow(
      '2026-11-25 08:00:00Z is before the earliest restorable point (2026-11-25 09:01:30Z, when the first backup became consistent); the recoverable window is 2026-11-25 09:01:30Z → 2026-11-25 09:04:00Z.',
    );
    expect(() => planRestore(parseRestoreTarget({ to: '2026-11-25T09:30:00Z' }), ms, i, w, lastCommit)).toThrow(
      /^2026-11-25 09:30:00Z is past the end of the recoverable window \(2026-11-25 09:01:30Z → 2026-11-25 09:04:00Z\): the newest archived commit is at 2026-11-25 09:04:00Z; choose an earlier time, or --to latest/,
    );
  });

  it('does not plan a time that only a later backup covers, from a backup that was not yet consistent', () => {
    // Backup A replays to 09:03 (gap at 4); backup B became consistent at 09:06:30.
    const i = inv([2, 3, 5, 6, 7, 8]);
    const ms = [backup('20261125T090130Z-F', 2, '2026-11-25T09:01:30Z'), backup('20261125T090630Z-F', 6, '2026-11-25T09:06:30Z')];
    const w = computeWindow(ms, i, lastCommit);
    expect(() => planRestore(parseRestoreTarget({ to: '2026-11-25T09:05:00Z' }), ms, i, w, lastCommit)).toThrow(/is past the end of the recoverable window .*replay would stop at the gap 000000010000000000000004/);
    expect(planRestore(parseRestoreTarget({ to: '2026-11-25T09:07:30Z' }), ms, i, w, lastCommit).backup.id).toBe('20261125T090630Z-F');
  });

  it('names the gap that stops replay', () => {
    const i = inv([2, 3, 5, 6]);
    const ms = [backup('20261125T090130Z-F', 2, '2026-11-25T09:01:30Z')];
    const w = computeWindow(ms, i, lastCommit);
    expect(w.to).toBe('2026-11-25T09:03:00.000Z');
    expect(() => planRestore(parseRestoreTarget({ to: '2026-11-25T09:05:30Z' }), ms, i, w, lastCommit)).toThrow(/replay would stop at the gap 000000010000000000000004…000000010000000000000004 in the archive/);
  });
});

describe('captured tool output', () => {
  it('reads the last commit from pg_waldump', () => {
    const c = lastCommitInDump(fixture('pg_waldump/transaction-records.txt'))!;
    expect(c.lsn).toBe('0/01CE9410');
    expect(c.at.toISOString()).toBe('2026-11-25T18:03:38.217Z');
  });

  it('follows a recovery that stopped at the target time', () => {
    const s = fixture('postgres-recovery/stopped-at-time.log').split('\n').map(parseRecoveryLine).reduce(foldRecovery, emptyRecovery());
    expect(s.restored).toEqual(['000000010000000000000002', '000000010000000000000003', '000000010000000000000004']);
    expect(s.stoppedBefore).toEqual({ xid: '772', before: true, at: new Date('2026-11-25T18:05:03.856Z'), micros: Date.parse('2026-11-25T18:05:03Z') * 1000 + 856211 });
    expect(s.lastCommitAt?.toISOString()).toBe('2026-11-25T18:05:01.785Z');
    expect(s.newTimeline).toBe(2);
    expect(s.ready).toBe(true);
    expect(s.fatal).toBeUndefined();
    // Replay got as far as "redo done at 0/4000678", the newest position the log named.
    expect(s.replayed).toBe(0x4000678n);
  });

  it('reports replay progress as the replayed LSN against the end of replay', () => {
    const lines = [
      '2026-11-25 18:05:06.319 UTC [5272] LOG:  redo starts at 0/2000028',
      '2026-11-25 18:05:06.326 UTC [5272] LOG:  restored log file "000000010000000000000003" from archive',
      '2026-11-25 18:05:07.326 UTC [5272] LOG:  redo in progress, elapsed time: 1.00 s, current LSN: 0/3A00010',
    ];
    const states = lines.map(parseRecoveryLine).reduce<RecoveryState[]>((acc, l) => [...acc, foldRecovery(acc.at(-1) ?? emptyRecovery(), l)], []);
    expect(states.map((st) => st.replayed)).toEqual([0x2000028n, 0x3000000n, 0x3a00010n]);
    const expectation = { segments: 3, startLsn: '0/2000028', endLsn: '0/5000000' };
    expect(replayProgress(states[2]!, expectation)).toEqual({
      type: 'progress', phase: 'replaying WAL (1 of 3 segments restored)', done: 0x3a00010, total: 0x5000000, start: 0x2000028, unit: 'lsn',
    });
    // Without a known end, progress counts segments.
    expect(replayProgress(states[2]!, { segments: 3 })).toEqual({ type: 'progress', phase: 'replaying WAL', done: 1, total: 3, unit: 'segments' });
  });

  it('catches recovery that ended before its target', () => {
    const s = fixture('postgres-recovery/ended-before-target.log').split('\n').map(parseRecoveryLine).reduce(foldRecovery, emptyRecovery());
    expect(s.fatal).toBe('recovery ended before configured recovery target was reached');
    expect(s.ready).toBe(false);
  });
});

describe('the recoverable window in words', () => {
  const base = { ranges: [], gaps: [], timelines: [1], segments: 3 };
  it('keeps the fraction of a second PostgreSQL targets can take, without trailing zeros', () => {
    // The planner refuses 01:05:44.123 when the window starts at 01:05:44.606: saying "44Z" would
    // name a window that seems to include the refused time.
    expect(describeWindow({ ...base, from: '2026-12-06T01:05:44.606Z', to: '2026-12-06T01:09:00.000Z' }))
      .toBe('2026-12-06 01:05:44.606Z → 2026-12-06 01:09:00Z');
    expect(describeWindow({ ...base, from: '2026-12-06T01:05:44.120Z', to: '2026-12-06T01:09:00.5Z' }))
      .toBe('2026-12-06 01:05:44.12Z → 2026-12-06 01:09:00.5Z');
  });
  it('names whole seconds when the archive\'s targets are whole seconds (binlogs)', () => {
    expect(describeWindow({ ...base, wholeSeconds: true, from: '2026-12-06T01:05:44.606Z', to: '2026-12-06T01:09:00.000Z' }))
      .toBe('2026-12-06 01:05:44Z → 2026-12-06 01:09:00Z');
  });
});
