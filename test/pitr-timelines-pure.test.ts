import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHistory } from '../src/pitr/history.js';
import { findGaps, readInventory, type WalInventory } from '../src/pitr/inventory.js';
import { isoMicros, microsOf, parsePgTimestamp, pgTimestamp } from '../src/pitr/micros.js';
import { planRestore } from '../src/pitr/plan.js';
import { microsWithinSecond, parseRestoreTarget } from '../src/pitr/time.js';
import { pathEnd, timelinePath } from '../src/pitr/timelines.js';
import { computeWindow, type ArchiveFacts } from '../src/pitr/window.js';
import type { Manifest } from '../src/repo/manifest.js';
import { Repository } from '../src/repo/repository.js';
import { archiveSegmentBytes } from '../src/engines/postgres/pitr.js';

const MiB = 1024 * 1024;
const SEG16 = 16 * MiB;
const lsnOf = (seg: number, off: number, bytes = SEG16) => {
  const pos = BigInt(seg) * BigInt(bytes) + BigInt(off);
  return `${(pos >> 32n).toString(16).toUpperCase()}/${(pos & 0xffffffffn).toString(16).toUpperCase()}`;
};
const backup = (id: string, startSeg: number, consistentAt: string, opts: { timeline?: number; bytes?: number } = {}): Manifest => ({
  formatVersion: 1, id, target: 't', engine: 'postgres', kind: 'physical', type: 'full', status: 'complete',
  tool: { name: 'pg_basebackup', version: '15', argv: [] }, serverVersion: '15.18', startedAt: consistentAt, sizeBytes: 1000, files: [],
  postgres: { timeline: opts.timeline ?? 1, startLsn: lsnOf(startSeg, 0x28, opts.bytes), stopLsn: lsnOf(startSeg, 0x100, opts.bytes), consistentAt, ...(opts.bytes ? { walSegmentBytes: opts.bytes } : {}) },
});

describe('microsecond times', () => {
  it('reads PostgreSQL timestamps to the microsecond, in any zone', () => {
    expect(isoMicros(parsePgTimestamp('2026-11-25 18:05:01.785393+00')!)).toBe('2026-11-25T18:05:01.785393Z');
    expect(isoMicros(parsePgTimestamp('2026-11-25 19:05:01.5+01')!)).toBe('2026-11-25T18:05:01.500000Z');
    expect(isoMicros(parsePgTimestamp('2026-11-25 18:03:38.217919 UTC')!)).toBe('2026-11-25T18:03:38.217919Z');
    expect(isoMicros(parsePgTimestamp('2026-11-25 12:35:01-05:30')!)).toBe('2026-11-25T18:05:01.000000Z');
  });

  it('keeps every digit typed: --to …25.655398Z writes recovery_target_time with .655398', () => {
    const t = parseRestoreTarget({ to: '2026-11-25T09:03:25.655398Z' });
    expect(t).toMatchObject({ kind: 'time', usec: 655398 });
    expect(t.kind === 'time' && pgTimestamp(microsOf(t.at, t.usec))).toBe('2026-11-25 09:03:25.655398+00');
    expect(microsWithinSecond('2026-11-25 10:03:25.5+01:00', new Date('2026-11-25T09:03:25.500Z'))).toBe(500000);
    expect(microsWithinSecond('-15m', new Date('2026-11-25T09:03:25.250Z'))).toBe(250000);
    expect(microsWithinSecond('2026-11-25T09:03:25Z', new Date('2026-11-25T09:03:25Z'))).toBe(0);
  });
});

describe('segment size', () => {
  it('reads 1 MiB segments: 4096 to a log id, so …00000FFF and …0100000000 are neighbours', () => {
    const root = mkdtempSync(join(tmpdir(), 'dbdrill-inv-'));
    try {
      mkdirSync(join(root, '00000001'));
      for (const f of ['000000010000000000000FFE', '000000010000000000000FFF', '000000010000000100000000']) writeFileSync(join(root, '00000001', f), 'x');
      const i = readInventory(root, MiB);
      expect(i.timelines.get(1)).toEqual([4094, 4095, 4096]);
      expect(findGaps(i)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('plans a 1 MiB-segment archive by its own names (issue 11: startLsn 0/2C000D8 is segment …2C, not …02)', () => {
    const m = { ...backup('20261125T090130Z-F', 0x2c, '2026-11-25T09:01:30Z', { bytes: MiB }) };
    m.postgres = { ...m.postgres, startLsn: '0/2C000D8', stopLsn: '0/2C001C0' };
    const i: WalInventory = { timelines: new Map([[1, [0x2c, 0x2d, 0x2e, 0x2f]]]), histories: [], newestArchivedAt: new Map() };
    const facts: ArchiveFacts = { segmentBytes: MiB, history: () => undefined };
    const lastCommit = (_tl: number, seg: number) => new Date(Date.parse('2026-11-25T09:01:00Z') + seg * 1000);
    const w = computeWindow([m], i, lastCommit, facts);
    expect(w.to).toBe('2026-11-25T09:01:47.000Z');
    const p = planRestore(parseRestoreTarget({ to: '2026-11-25T09:01:45Z' }), [m], i, w, lastCommit, { facts });
    expect([p.walFrom, p.walTo, p.segments]).toEqual(['00000001000000000000002C', '00000001000000000000002F', 4]);
    expect(p.endLsn).toBe('0/3000000');
    expect(p.estimatedBytes).toBe(1000 + 4 * MiB);
  });
});

describe('where the segment size comes from', () => {
  it('repo.json or the backups; 16 MiB only when neither says; two sizes in one repository refused', () => {
    const root = mkdtempSync(join(tmpdir(), 'dbdrill-repo-'));
    try {
      const repo = new Repository(root);
      const b = (bytes: number) => backup('20261125T090130Z-F', 2, '2026-11-25T09:01:30Z', { bytes });
      expect(archiveSegmentBytes(repo, [backup('20261125T090130Z-F', 2, '2026-11-25T09:01:30Z')])).toBe(SEG16);
      expect(archiveSegmentBytes(repo, [b(MiB)])).toBe(MiB);
      writeFileSync(join(root, 'repo.json'), JSON.stringify({ format: 'dbdrill-repo', formatVersion: 1, engine: 'postgres', target: 't', createdAt: '2026-11-25T09:00:00Z', walSegmentBytes: 64 * MiB }));
      expect(archiveSegmentBytes(repo, [])).toBe(64 * MiB);
      expect(() => archiveSegmentBytes(repo, [b(MiB)])).toThrow(`${join(root, 'repo.json')} records WAL segments of ${64 * MiB} bytes but backup 20261125T090130Z-F ${MiB} bytes: two clusters share the repository ${root}; give each its own --repo.`);
      expect(() => archiveSegmentBytes(repo, [b(3000)])).toThrow('backup 20261125T090130Z-F records a WAL segment size of 3000 bytes, which PostgreSQL never uses');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('timelines: the window and the plan follow archived history', () => {
  // Timeline 2 branched from timeline 1 at 0/5000080 (inside segment 5); timeline 1 went on to 8.
  const history2 = parseHistory('1\t0/5000080\tno recovery target specified\n');
  const inv = (tl2: number[]): WalInventory => ({ timelines: new Map([[1, [2, 3, 4, 5, 6, 7, 8]], [2, tl2]]), histories: [2], newestArchivedAt: new Map() });
  const facts: ArchiveFacts = { segmentBytes: SEG16, history: (tl) => (tl === 2 ? history2 : undefined) };
  // Timeline 1's segment n: last commit 09:00 + n min; timeline 2's: 09:00 + n min + 30 s.
  const lastCommit = (tl: number, seg: number) => new Date(Date.parse('2026-11-25T09:00:00Z') + seg * 60_000 + (tl === 2 ? 30_000 : 0));
  const a = backup('20261125T090130Z-F', 2, '2026-11-25T09:01:30Z');

  it('a path reads the backup\'s timeline up to the switch segment, then the child from there', () => {
    const p = timelinePath({ timeline: 1, startSeg: 2, endLsn: '0/2000100' }, 2, history2, SEG16);
    expect(p).toEqual({ timeline: 2, legs: [{ timeline: 1, fromSeg: 2, toSeg: 4 }, { timeline: 2, fromSeg: 5 }], switches: [{ parent: 1, child: 2, lsn: '0/5000080' }] });
    expect(pathEnd(p as never, inv([5, 6, 7]))).toEqual({ timeline: 2, seg: 7, entered: true });
    // Timeline 2's first segment missing: replay cannot get onto it.
    expect(pathEnd(p as never, inv([6, 7]))).toEqual({ timeline: 1, seg: 4, entered: false });
    expect(timelinePath({ timeline: 1, startSeg: 6, endLsn: '0/6000100' }, 2, history2, SEG16)).toEqual({ kind: 'branched-before-end', parent: 1, lsn: '0/5000080', backupEnd: '0/6000100' });
  });

  it('the window shows a range per timeline and ends where the newest timeline ends', () => {
    const w = computeWindow([a], inv([5, 6, 7]), lastCommit, facts);
    expect(w.timeline).toBe(2);
    expect(w.ranges).toEqual([
      { backup: a.id, timeline: 1, from: '2026-11-25T09:01:30.000Z', to: '2026-11-25T09:08:00.000Z' },
      { backup: a.id, timeline: 2, from: '2026-11-25T09:01:30.000Z', to: '2026-11-25T09:07:30.000Z' },
    ]);
    expect(w.to).toBe('2026-11-25T09:07:30.000Z');
  });

  it('latest follows the newest timeline and says why; --timeline 1 restores the abandoned one', () => {
    const i = inv([5, 6, 7]);
    const w = computeWindow([a], i, lastCommit, facts);
    const latest = planRestore(parseRestoreTarget({ to: 'latest' }), [a], i, w, lastCommit, { facts });
    expect(latest.settings.recovery_target_timeline).toBe('2');
    expect([latest.walFrom, latest.walTo, latest.segments]).toEqual(['000000010000000000000002', '000000020000000000000007', 6]);
    expect(latest.legs).toEqual([{ timeline: 1, fromSeg: 2, toSeg: 4 }, { timeline: 2, fromSeg: 5 }]);
    expect(latest.promise).toEqual({
      kind: 'end-of-archive', timeline: 2, lastSegment: '000000020000000000000007', lastSegmentLsn: '0/7000000',
      lastCommitAt: '2026-11-25T09:07:30.000Z', lastCommitMicros: Date.parse('2026-11-25T09:07:30Z') * 1000,
    });
    expect(latest.notes).toContain(`following timeline 2, the newest backup ${a.id} reaches (as PostgreSQL does by default): timeline 2 branched from timeline 1 at 0/5000080 (00000002.history); --timeline 1 restores that timeline instead`);
    const on1 = planRestore(parseRestoreTarget({ to: 'latest' }), [a], i, w, lastCommit, { facts, timeline: 1 });
    expect([on1.settings.recovery_target_timeline, on1.walTo]).toEqual(['1', '000000010000000000000008']);
  });

  it('a time on timeline 2 is planned on it, with or without --timeline 2; one only timeline 1 reaches names --timeline 1', () => {
    const i = inv([5, 6, 7]);
    const w = computeWindow([a], i, lastCommit, facts);
    for (const timeline of [undefined, 2]) {
      const p = planRestore(parseRestoreTarget({ to: '2026-11-25T09:07:10Z' }), [a], i, w, lastCommit, { facts, ...(timeline ? { timeline } : {}) });
      expect([p.settings.recovery_target_timeline, p.settings.recovery_target_time, p.walTo]).toEqual(['2', '2026-11-25 09:07:10.000000+00', '000000020000000000000007']);
    }
    expect(() => planRestore(parseRestoreTarget({ to: '2026-11-25T09:07:50Z' }), [a], i, w, lastCommit, { facts })).toThrow(
      '2026-11-25 09:07:50Z is past the end of the recoverable window (2026-11-25 09:01:30Z → 2026-11-25 09:07:30Z): the newest archived commit on timeline 2 is at 2026-11-25 09:07:30Z; choose an earlier time, or --timeline 1, which reaches it, or --to latest to replay everything archived.',
    );
    expect(planRestore(parseRestoreTarget({ to: '2026-11-25T09:07:50Z' }), [a], i, w, lastCommit, { facts, timeline: 1 }).walTo).toBe('000000010000000000000008');
  });

  it('a backup that ended after the branch cannot follow it: the planner takes an older one, or refuses naming why', () => {
    const i = inv([5, 6, 7]);
    const b = backup('20261125T090630Z-F', 6, '2026-11-25T09:06:30Z');
    const w = computeWindow([a, b], i, lastCommit, facts);
    expect(planRestore(parseRestoreTarget({ to: '2026-11-25T09:07:10Z' }), [a, b], i, w, lastCommit, { facts }).backup.id).toBe(a.id);
    expect(planRestore(parseRestoreTarget({ to: 'latest' }), [a, b], i, w, lastCommit, { facts, backup: b.id }).settings.recovery_target_timeline).toBe('1');
    expect(() => planRestore(parseRestoreTarget({ to: 'latest' }), [a, b], i, w, lastCommit, { facts, backup: b.id, timeline: 2 })).toThrow(
      `Timeline 2 branched from timeline 1 at 0/5000080, before backup ${b.id} ended (0/6000100), so that backup does not hold its past; choose an older backup with --backup or another --timeline.`,
    );
  });

  it('a timeline whose first segment is not archived is not followed by default, and --timeline says what is missing', () => {
    const i = inv([6, 7]);
    const w = computeWindow([a], i, lastCommit, facts);
    expect(w.timeline).toBe(1);
    expect(planRestore(parseRestoreTarget({ to: 'latest' }), [a], i, w, lastCommit, { facts }).settings.recovery_target_timeline).toBe('1');
    expect(() => planRestore(parseRestoreTarget({ to: 'latest' }), [a], i, w, lastCommit, { facts, timeline: 2 })).toThrow(
      `Timeline 2 begins at segment 000000020000000000000005 (timeline 2 branched from timeline 1 at 0/5000080 (00000002.history)), and the archive does not reach it from backup ${a.id}; archive that timeline's segments or leave --timeline out.`,
    );
  });
});
