import { describe, expect, it } from 'vitest';
import type { ArchivedBinlog } from '../src/binlog/archive.js';
import type { WalInventory } from '../src/pitr/inventory.js';
import { segmentName } from '../src/pitr/wal-names.js';
import type { Manifest } from '../src/repo/manifest.js';
import { binlogArchiveLines, intactRuns, walArchiveLines } from '../src/verify/archive-lines.js';
import { planArchive, timeQuestions } from '../src/verify/repository-plan.js';

const seg = (n: number, tl = 1) => segmentName({ timeline: tl, segNo: n });

function pgBackup(id: string, startSeg: number, consistentAt: string, timeline = 1): Manifest {
  const lsn = `0/${(startSeg * 0x1000000 + 0x28).toString(16).toUpperCase()}`;
  return {
    formatVersion: 1, id, target: 't', engine: 'postgres', kind: 'physical', type: 'full', status: 'complete',
    tool: { name: 'pg_basebackup', version: '15', argv: [] }, serverVersion: '15.8', startedAt: consistentAt, sizeBytes: 1, files: [],
    postgres: { startLsn: lsn, stopLsn: lsn, timeline, consistentAt },
  };
}

function inventory(segs: number[], histories: number[] = []): WalInventory {
  return { timelines: new Map([[1, segs]]), histories, newestArchivedAt: new Map() };
}

const facts = { segmentBytes: 16 * 1024 * 1024, history: () => undefined };

describe('whole-repository verify: the WAL archive as lines and replays', () => {
  const A = pgBackup('20261201T000000Z-F', 2, '2026-12-01T00:00:05.000Z');
  const B = pgBackup('20261201T060000Z-F', 8, '2026-12-01T06:00:05.000Z');

  it('names a segment missing in the middle, the backups whose replay it stops, and the window from the commit before it to the next backup', () => {
    const { lines, replays } = walArchiveLines(inventory([2, 3, 4, 6, 7, 8, 9, 10]), [], [A, B], facts);
    expect(timeQuestions(lines).sort()).toEqual([seg(4), seg(10)]);
    const times: Record<string, string> = { [seg(4)]: '2026-12-01T02:00:00.000Z', [seg(10)]: '2026-12-01T08:00:00.000Z' };
    const plan = planArchive(lines, replays, (k) => times[k], 'segment');
    expect(plan.ranges.map((r) => [r.first, r.last, r.status, r.ok])).toEqual([
      [seg(2), seg(4), 'ok', true],
      [seg(5), seg(5), 'missing', false],
      [seg(6), seg(10), 'ok', true],
    ]);
    const gap = plan.ranges[1]!;
    expect(gap.breaks).toEqual([A.id]);
    expect(gap.lost).toEqual({ from: '2026-12-01T02:00:00.000Z', to: B.postgres!.consistentAt, untilBackup: B.id, afterFile: seg(4), words: expect.any(String) });
    expect(gap.reason).toBe(
      `segment ${seg(5)} is missing; it stops the replay of backup ${A.id}; no restore reaches from 2026-12-01 02:00:00Z (the last commit in ${seg(4)}) to 2026-12-01 06:00:05Z, where backup ${B.id} starts`,
    );
    expect(plan.replays).toEqual([
      expect.objectContaining({ backup: A.id, ok: false, start: seg(2), reaches: seg(4), stopsAt: seg(5), end: seg(10) }),
      expect.objectContaining({ backup: B.id, ok: true, start: seg(8), reaches: seg(10), end: seg(10) }),
    ]);
  });

  it('a damaged segment after the newest backup stops every backup and loses everything to the archive end', () => {
    const { lines, replays } = walArchiveLines(inventory([2, 3, 4, 5, 6, 7, 8, 9, 10]), [{ timeline: 1, segNo: 9, reason: 'its archived copy x is corrupt' }], [A, B], facts);
    const plan = planArchive(lines, replays, () => undefined, 'segment');
    const bad = plan.ranges.find((r) => !r.ok)!;
    expect([bad.first, bad.status, bad.breaks]).toEqual([seg(9), 'damaged', [A.id, B.id]]);
    expect(bad.lost?.untilBackup).toBeUndefined();
    expect(bad.reason).toContain(`segment ${seg(9)} is damaged: its archived copy x is corrupt`);
    expect(bad.reason).toContain(`everything from the end of segment ${seg(8)} to the archive's end (${seg(10)}) is lost`);
    expect(plan.replays.every((r) => !r.ok && r.stopsAt === seg(9))).toBe(true);
  });

  it('a backup whose own start segment is missing is stopped at once; WAL missing before every backup needs nothing and passes', () => {
    const { lines, replays } = walArchiveLines(inventory([0, 3, 4]), [], [A], facts);
    const plan = planArchive(lines, replays, () => undefined, 'segment');
    expect(plan.ranges.map((r) => [r.first, r.status, r.ok, r.breaks])).toEqual([
      [seg(0), 'ok', true, []],
      [seg(1), 'missing', true, []],
      [seg(2), 'missing', false, [A.id]],
      [seg(3), 'ok', true, []],
    ]);
    expect(plan.replays[0]).toMatchObject({ ok: false, stopsAt: seg(2), reason: expect.stringContaining('it cannot replay any archived change') });
  });

  it('follows a backup onto a later timeline: a gap on timeline 2 stops its replay there, not on timeline 1', () => {
    const inv: WalInventory = { timelines: new Map([[1, [2, 3, 4, 5]], [2, [5, 6, 8]]]), histories: [2], newestArchivedAt: new Map() };
    const history = (tl: number) => (tl === 2 ? [{ parent: 1, switchpoint: '0/5000100' }] : undefined);
    const { lines, replays } = walArchiveLines(inv, [], [A], { ...facts, history });
    expect(replays.map((r) => [r.timeline, r.needs])).toEqual([
      [1, [seg(2), seg(3), seg(4), seg(5)]],
      [2, [seg(2), seg(3), seg(4), seg(5, 2), seg(6, 2), seg(7, 2), seg(8, 2)]],
    ]);
    const plan = planArchive(lines, replays, () => undefined, 'segment');
    expect(plan.ranges.filter((r) => !r.ok)).toEqual([expect.objectContaining({ line: 'timeline 2', first: seg(7, 2), status: 'missing', breaks: [A.id] })]);
    expect(plan.replays.map((r) => [r.timeline, r.ok, r.stopsAt])).toEqual([[1, true, undefined], [2, false, seg(7, 2)]]);
    expect(plan.replays[1]!.reason).toContain('on timeline 2');
  });

  it('a clean archive: one intact range, every replay reaches the end', () => {
    const { lines, replays } = walArchiveLines(inventory([2, 3, 4, 5, 6, 7, 8]), [], [A, B], facts);
    const plan = planArchive(lines, replays, () => undefined, 'segment');
    expect(plan.ranges).toEqual([expect.objectContaining({ first: seg(2), last: seg(8), count: 7, ok: true, status: 'ok' })]);
    expect(plan.replays.map((r) => [r.backup, r.ok, r.reaches])).toEqual([[A.id, true, seg(8)], [B.id, true, seg(8)]]);
  });
});

describe('whole-repository verify: the binlog archive', () => {
  const bl = (n: number, extra: Partial<ArchivedBinlog> = {}): ArchivedBinlog => ({
    file: `mysql-bin.${String(n).padStart(6, '0')}`, size: 100, sha256: 'a'.repeat(64), transactions: 1, lastEventAt: `2026-12-01T0${n}:00:00.000Z`, ...extra,
  });
  const my = (id: string, file: string, at: string): Manifest => ({
    formatVersion: 1, id, target: 't', engine: 'mysql', kind: 'logical', type: 'full', status: 'complete',
    tool: { name: 'mariadb-dump', version: '10.11', argv: [] }, serverVersion: '10.11.6-MariaDB', startedAt: at, sizeBytes: 1, files: [],
    mysql: { binlogFile: file, binlogPosition: 4 },
  });
  const L1 = my('20261201T003000Z-L', 'mysql-bin.000001', '2026-12-01T00:30:00.000Z');
  const L2 = my('20261201T043000Z-L', 'mysql-bin.000004', '2026-12-01T04:30:00.000Z');

  it('a truncated binlog is named with the backup it stops; the newest file lost from the end is missing too', () => {
    const files = [bl(1), bl(2, { problem: 'it holds 50 bytes where 100 were archived' }), bl(3), bl(4)];
    const { lines, replays } = binlogArchiveLines(files, [bl(5)], [L1, L2]);
    const at = new Map(files.filter((f) => !f.problem).map((f) => [f.file, f.lastEventAt!]));
    const plan = planArchive(lines, replays, (k) => at.get(k), 'binlog');
    expect(plan.ranges.map((r) => [r.first, r.last, r.status, r.breaks])).toEqual([
      ['mysql-bin.000001', 'mysql-bin.000001', 'ok', []],
      ['mysql-bin.000002', 'mysql-bin.000002', 'damaged', [L1.id]],
      ['mysql-bin.000003', 'mysql-bin.000004', 'ok', []],
      ['mysql-bin.000005', 'mysql-bin.000005', 'missing', [L1.id, L2.id]],
    ]);
    expect(plan.ranges[1]!.reason).toBe(
      `binlog mysql-bin.000002 is damaged: it holds 50 bytes where 100 were archived; it stops the replay of backup ${L1.id}; no restore reaches from 2026-12-01 01:00:00Z (the last commit in mysql-bin.000001) to 2026-12-01 04:30:00Z, where backup ${L2.id} starts`,
    );
  });
});

describe('whole-repository verify: which WAL pg_waldump reads', () => {
  it('reads runs of consecutive intact segments per timeline, never a damaged copy', () => {
    const runs = intactRuns(new Map([[1, [2, 3, 4, 6, 7, 8]], [2, [8, 9]]]), [{ timeline: 1, segNo: 7, reason: 'x' }]);
    expect(runs).toEqual([
      { timeline: 1, segNos: [2, 3, 4] },
      { timeline: 1, segNos: [6] },
      { timeline: 1, segNos: [8] },
      { timeline: 2, segNos: [8, 9] },
    ]);
  });
});
