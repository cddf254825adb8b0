import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchivedBinlog } from '../src/binlog/archive.js';
import { parseEventHeader, ReplayTracker, stopDatetimeArg, stopSecond } from '../src/binlog/decoded.js';
import { isClosed, scanBinlogBuffer, type BinlogEvent } from '../src/binlog/events.js';
import { checkPosition, locateGtid } from '../src/binlog/locate.js';
import { BoundaryTracker, gtidCoveredBy, parseGtid } from '../src/binlog/stops.js';
import { parseRestoreTarget } from '../src/pitr/time.js';
import { compareBinlogNames, contiguousFrom, findBinlogGaps, parseBinlogFileName } from '../src/binlog/names.js';
import { computeMysqlWindow, describeMysqlWindow, planMysqlRestore } from '../src/binlog/window.js';
import { replayArgs } from '../src/engines/mysql/binlog-replay.js';
import { closedBinlogs } from '../src/engines/mysql/binlog-server.js';
import { serverSettingsOf } from '../src/engines/mysql/backup-info.js';
import type { RestoreTarget } from '../src/pitr/time.js';
import type { Manifest } from '../src/repo/manifest.js';

const FIX = join(import.meta.dirname, '../fixtures/mariadb-binlog');
const fixture = (name: string) => readFileSync(join(FIX, name));

describe('binlog file names', () => {
  it('parses base and number, orders by number and finds gaps per base name', () => {
    expect(parseBinlogFileName('mysql-bin.000042')).toEqual({ base: 'mysql-bin', seq: 42 });
    expect(parseBinlogFileName('mysql-bin.1000000')).toEqual({ base: 'mysql-bin', seq: 1000000 });
    for (const bad of ['index.json', '.mysql-bin.000001.tmp', 'mysql-bin.index', 'mysql-bin.00001', '.incoming-1']) expect(parseBinlogFileName(bad)).toBeUndefined();
    expect(['mysql-bin.1000000', 'mysql-bin.999999', 'mysql-bin.000002'].sort(compareBinlogNames)).toEqual(['mysql-bin.000002', 'mysql-bin.999999', 'mysql-bin.1000000']);
    const names = ['mysql-bin.000001', 'mysql-bin.000002', 'mysql-bin.000005', 'mysql-bin.000006', 'mysql-bin.000008', 'other.000001', 'other.000003'];
    expect(findBinlogGaps(names)).toEqual([
      { base: 'mysql-bin', from: 'mysql-bin.000003', to: 'mysql-bin.000004', missing: 2 },
      { base: 'mysql-bin', from: 'mysql-bin.000007', to: 'mysql-bin.000007', missing: 1 },
      { base: 'other', from: 'other.000002', to: 'other.000002', missing: 1 },
    ]);
    expect(contiguousFrom(names, 'mysql-bin.000005')).toEqual(['mysql-bin.000005', 'mysql-bin.000006']);
    expect(contiguousFrom(names, 'mysql-bin.000003')).toEqual([]);
  });

  it('calls every binlog but the one the server writes closed', () => {
    const files = [{ name: 'b.000001', size: 10 }, { name: 'b.000002', size: 20 }, { name: 'b.000003', size: 30 }];
    expect(closedBinlogs({ logBin: true, files, current: { name: 'b.000003', position: 30 } }).map((f) => f.name)).toEqual(['b.000001', 'b.000002']);
    expect(closedBinlogs({ logBin: true, files: [] })).toEqual([]);
  });
});

describe('binlog event headers (binary)', () => {
  it('reads a closed binlog: times, transactions, rotation, checksums', () => {
    const s = scanBinlogBuffer(fixture('closed.000004'));
    expect(s).toMatchObject({
      bytes: 1588,
      validBytes: 1588,
      events: 27,
      transactions: 5,
      serverId: 1,
      serverVersion: '10.11.18-MariaDB-0+deb12u1-log',
      checksum: 'crc32',
      inUse: false,
      end: 'rotate',
      rotateTo: 'mysql-bin.000005',
      firstEventAt: '2026-11-25T18:23:01.000Z',
      lastEventAt: '2026-11-25T18:25:32.000Z',
      lastChangeAt: '2026-11-25T18:25:32.000Z',
      badChecksums: 0,
    });
    expect(s.problem).toBeUndefined();
    expect(isClosed(s)).toBe(true);
  });

  it('gives the same answer for any chunking', async () => {
    const { BinlogWalker } = await import('../src/binlog/events.js');
    const buf = fixture('closed.000004');
    for (const size of [1, 3, 19, 20, 64, 1000]) {
      const w = new BinlogWalker();
      for (let i = 0; i < buf.length; i += size) w.push(buf.subarray(i, i + size));
      expect(w.result()).toEqual(scanBinlogBuffer(buf));
    }
  });

  it('knows the file the server still writes (in-use flag, CRC computed with the flag clear)', () => {
    const s = scanBinlogBuffer(fixture('active.000005'));
    expect(s).toMatchObject({ inUse: true, end: 'open', badChecksums: 0, transactions: 1 });
    expect(s.rotateTo).toBeUndefined();
    expect(isClosed(s)).toBe(false);
  });

  it('notices a flipped byte, a cut-short file and a file that is no binlog', () => {
    const bad = Buffer.from(fixture('closed.000004'));
    bad[900] = bad[900]! ^ 0x01;
    const flipped = scanBinlogBuffer(bad);
    expect(flipped.badChecksums).toBe(1);
    expect(flipped.firstBadChecksumAt).toBe(893);
    expect(isClosed(flipped)).toBe(false);

    const cut = scanBinlogBuffer(fixture('closed.000004').subarray(0, 1000));
    expect(cut.end).toBe('truncated');
    expect(cut.problem).toBe('the file ends inside an event (at offset 993 of 1000)');
    expect(cut.lastEventAt).toBe('2026-11-25T18:25:31.000Z');

    expect(scanBinlogBuffer(Buffer.from('-- MariaDB dump\n')).end).toBe('not-binlog');
    expect(scanBinlogBuffer(Buffer.alloc(2)).problem).toBe('the file is shorter than the binlog magic number');
  });
});

describe('mariadb-binlog output (text)', () => {
  it('parses event header lines in UTC', () => {
    expect(parseEventHeader('#261125 18:25:31 server id 1  end_log_pos 793 CRC32 0x38b8970c \tXid = 79')).toEqual({
      at: new Date('2026-11-25T18:25:31Z'), serverId: 1, endPos: 793, what: 'Xid = 79',
    });
    // MySQL pads the hour with a space; events without checksums have no CRC32 part.
    expect(parseEventHeader('#240102  9:05:03 server id 7  end_log_pos 120 \tQuery\tthread_id=3')?.at.toISOString()).toBe('2024-01-02T09:05:03.000Z');
    expect(parseEventHeader('#Q> insert into fx values (1)')).toBeUndefined();
    expect(parseEventHeader('### INSERT INTO `shop`.`fx`')).toBeUndefined();
  });

  it('follows a replay stream: transactions and the last change, whatever the chunking', () => {
    for (const [file, want] of [
      ['replay-full.sql', { transactions: 5, lastGtid: '0-1-40', lastChangeAt: new Date('2026-11-25T18:25:32Z'), rotations: 1 }],
      ['replay-stop-datetime.sql', { transactions: 2, lastGtid: '0-1-38', lastChangeAt: new Date('2026-11-25T18:25:31Z'), rotations: 0 }],
    ] as const) {
      const text = fixture(file);
      for (const size of [7, 100, text.length]) {
        const t = new ReplayTracker();
        for (let i = 0; i < text.length; i += size) t.push(text.subarray(i, i + size));
        t.end();
        expect(t.progress, `${file} in chunks of ${size}`).toMatchObject(want);
      }
    }
  });

  it('stops replay at the target second, never after the target', () => {
    expect(stopSecond(new Date('2026-11-25T18:25:31.999Z')).toISOString()).toBe('2026-11-25T18:25:31.000Z');
    expect(stopDatetimeArg(new Date('2026-11-25T18:25:31.000Z'))).toBe('2026-11-25 18:25:31');
    expect(replayArgs({ files: [{ path: '/r/b.000001', size: 1 }, { path: '/r/b.000002', size: 1 }], startPosition: 609, stopAt: new Date('2026-11-25T18:25:31Z'), schema: 'shop' })).toEqual([
      '--disable-log-bin', '--verify-binlog-checksum', '--database=shop', '--start-position=609', '--stop-datetime=2026-11-25 18:25:31', '/r/b.000001', '/r/b.000002',
    ]);
  });

  it('replays every schema after a physical backup (no --database)', () => {
    expect(replayArgs({ files: [{ path: '/r/b.000003', size: 1 }], startPosition: 4 })).toEqual(['--disable-log-bin', '--verify-binlog-checksum', '--start-position=4', '/r/b.000003']);
  });
});

describe('recoverable window and restore plans of MySQL targets', () => {
  const manifest = (id: string, startedAt: string, file: string, position: number): Manifest => ({
    formatVersion: 1, id, target: 'my', engine: 'mysql', kind: 'logical', type: 'full', status: 'complete',
    tool: { name: 'mariadb-dump', version: '10.11.18', argv: [] }, serverVersion: '10.11.18', startedAt, sizeBytes: 1000,
    files: [], database: 'shop', mysql: { binlogFile: file, binlogPosition: position },
  });
  const file = (n: number, first: string, last: string, size = 100): ArchivedBinlog => ({
    file: `mysql-bin.${String(n).padStart(6, '0')}`, size, firstEventAt: first, lastEventAt: last, transactions: 1,
  });
  const b1 = manifest('20261125T100000Z-L', '2026-11-25T10:00:00.500Z', 'mysql-bin.000001', 400);
  const b2 = manifest('20261125T120000Z-L', '2026-11-25T12:00:00.500Z', 'mysql-bin.000004', 300);
  const files = [
    file(1, '2026-11-25T09:00:00Z', '2026-11-25T10:30:00Z'),
    file(2, '2026-11-25T10:30:00Z', '2026-11-25T11:00:00Z'),
    // 3 is missing
    file(4, '2026-11-25T11:30:00Z', '2026-11-25T12:30:00Z'),
    file(5, '2026-11-25T12:30:00Z', '2026-11-25T13:00:00Z'),
  ];
  const inv = { files, gaps: findBinlogGaps(files.map((f) => f.file)).map((g) => g) };
  const window = computeMysqlWindow([b1, b2], inv);
  const at = (iso: string): RestoreTarget => ({ kind: 'time', at: new Date(iso), input: iso, usec: new Date(iso).getUTCMilliseconds() * 1000 });

  it('spans from the first backup to the newest event reachable without a gap', () => {
    expect(window).toEqual({
      from: '2026-11-25T10:00:00.500Z',
      to: '2026-11-25T13:00:00.000Z',
      ranges: [
        { backup: b1.id, timeline: 0, from: '2026-11-25T10:00:00.500Z', to: '2026-11-25T11:00:00.000Z' },
        { backup: b2.id, timeline: 0, from: '2026-11-25T12:00:00.500Z', to: '2026-11-25T13:00:00.000Z' },
      ],
      gaps: [{ timeline: 0, from: 'mysql-bin.000003', to: 'mysql-bin.000003', missing: 1 }],
      timelines: [],
      segments: 4,
      newestSegment: 'mysql-bin.000005',
      wholeSeconds: true,
    });
    expect(describeMysqlWindow(window)).toBe('2026-11-25 10:00:00Z → 2026-11-25 13:00:00Z');
    expect(describeMysqlWindow(computeMysqlWindow([], inv))).toBe('no restorable point yet (no complete backup with binlog coordinates)');
  });

  it('plans from the newest backup before the target, up to the file that holds the stop second', () => {
    const p = planMysqlRestore(at('2026-11-25T10:45:10.250Z'), [b1, b2], inv, window);
    expect(p.backup.id).toBe(b1.id);
    expect(p.schema).toBe('shop');
    expect([p.startFile, p.startPosition]).toEqual(['mysql-bin.000001', 400]);
    expect(p.files.map((f) => f.file)).toEqual(['mysql-bin.000001', 'mysql-bin.000002']);
    expect(p.stopAt?.toISOString()).toBe('2026-11-25T10:45:10.000Z');
    expect(p.notes[0]).toMatch(/^binlog events carry whole seconds/);
    expect(p.estimatedBytes).toBe(1000 + 0 + 100);

    const first = planMysqlRestore(at('2026-11-25T10:10:00Z'), [b1, b2], inv, window);
    expect(first.files.map((f) => f.file)).toEqual(['mysql-bin.000001']);
    expect(first.notes).toEqual([]);

    const latest = planMysqlRestore({ kind: 'latest' }, [b1, b2], inv, window);
    expect([latest.backup.id, latest.files.map((f) => f.file), latest.stopAt]).toEqual([b2.id, ['mysql-bin.000004', 'mysql-bin.000005'], undefined]);
  });

  it('refuses times before the window, past it and beyond a gap, in one sentence with the window', () => {
    expect(() => planMysqlRestore(at('2026-11-25T09:00:00Z'), [b1, b2], inv, window)).toThrow(
      'is before the earliest restorable point (2026-11-25 10:00:00Z, when the first backup started); the recoverable window is 2026-11-25 10:00:00Z → 2026-11-25 13:00:00Z.',
    );
    expect(() => planMysqlRestore(at('2026-11-25T11:15:00Z'), [b1, b2], inv, window)).toThrow(
      '2026-11-25 11:15:00Z is past the end of the recoverable window (2026-11-25 10:00:00Z → 2026-11-25 13:00:00Z): replay would stop at the gap mysql-bin.000003…mysql-bin.000003 in the binlog archive; choose an earlier time, or --to latest to replay everything archived.',
    );
    expect(() => planMysqlRestore(at('2026-11-25T14:00:00Z'), [b1, b2], inv, window)).toThrow(/past the end of the recoverable window .*: the newest archived binlog event is at 2026-11-25 13:00:00Z/);
    expect(() => planMysqlRestore({ kind: 'lsn', lsn: '0/1' }, [b1, b2], inv, window)).toThrow('MySQL/MariaDB restores take --to TIME|latest, --gtid G or --position FILE:POS (or --backup ID alone); --lsn is a PostgreSQL recovery target.');
    expect(() => planMysqlRestore({ kind: 'latest' }, [b1, b2], inv, window, { backup: 'nope' })).toThrow('Backup nope is not a complete backup with binlog coordinates');
    expect(() => planMysqlRestore({ kind: 'latest' }, [], inv, window)).toThrow(/^There is no complete backup with binlog coordinates/);
  });

  it('counts a physical backup from the moment its files were consistent, and picks the base closest before the target', () => {
    const p1: Manifest = {
      ...manifest('20261125T104000Z-F', '2026-11-25T10:40:00Z', 'mysql-bin.000002', 900),
      kind: 'physical', format: 'mariadb-backup', finishedAt: '2026-11-25T10:50:00Z',
      mysql: { binlogFile: 'mysql-bin.000002', binlogPosition: 900, consistentAt: '2026-11-25T10:44:00Z' },
    };
    delete p1.database;
    const w = computeMysqlWindow([b1, p1, b2], inv);
    expect(w.ranges.map((r) => [r.backup, r.from, r.to])).toEqual([
      [b1.id, '2026-11-25T10:00:00.500Z', '2026-11-25T11:00:00.000Z'],
      [p1.id, '2026-11-25T10:44:00.000Z', '2026-11-25T11:00:00.000Z'],
      [b2.id, '2026-11-25T12:00:00.500Z', '2026-11-25T13:00:00.000Z'],
    ]);
    // Started before the target, but consistent only after it: the logical backup is used.
    expect(planMysqlRestore(at('2026-11-25T10:42:00Z'), [b1, p1, b2], inv, w).backup.id).toBe(b1.id);
    const p = planMysqlRestore(at('2026-11-25T10:45:00Z'), [b1, p1, b2], inv, w, { schema: 'shop' });
    expect([p.backup.id, p.startFile, p.startPosition, p.files.map((f) => f.file)]).toEqual([p1.id, 'mysql-bin.000002', 900, ['mysql-bin.000002']]);
    // Without consistentAt (older manifests) the backup counts from its end.
    const old = { ...p1, mysql: { binlogFile: 'mysql-bin.000002', binlogPosition: 900 } };
    expect(computeMysqlWindow([old], inv).from).toBe('2026-11-25T10:50:00.000Z');
    expect(() => planMysqlRestore(at('2026-11-25T10:45:00Z'), [old], inv, computeMysqlWindow([old], inv))).toThrow(/\(2026-11-25 10:50:00Z, when the first backup was consistent\)/);
  });

  it('restores a backup as it was taken when only --backup is given, with or without binlog coordinates', () => {
    const p = planMysqlRestore({ kind: 'immediate' }, [b1, b2], inv, window, { backup: b1.id });
    expect([p.backup.id, p.files, p.stopAt, p.startFile, p.startPosition]).toEqual([b1.id, [], undefined, 'mysql-bin.000001', 400]);
    expect(p.notes).toEqual([`restores backup ${b1.id} as it was taken (binlog mysql-bin.000001:400); no binlog is replayed (give --to to move forward from it)`]);
    const bare = { ...b1, id: '20261125T150000Z-L' };
    delete bare.mysql;
    expect(planMysqlRestore({ kind: 'immediate' }, [b1, bare], inv, window).backup.id).toBe(bare.id);
    expect(() => planMysqlRestore({ kind: 'immediate' }, [b1], inv, window, { backup: 'nope' })).toThrow('Backup nope is not a complete backup of this target');
  });

  it('restores a backup whose binlog is not archived to its own moment only', () => {
    const b3 = manifest('20261125T140000Z-L', '2026-11-25T14:00:00Z', 'mysql-bin.000009', 4);
    const w = computeMysqlWindow([b3], inv);
    expect(w.ranges).toEqual([{ backup: b3.id, timeline: 0, from: '2026-11-25T14:00:00.000Z', to: '2026-11-25T14:00:00.000Z' }]);
    expect(planMysqlRestore(at('2026-11-25T14:00:00Z'), [b3], inv, w).files).toEqual([]);
    expect(() => planMysqlRestore(at('2026-11-25T14:00:01Z'), [b3], inv, w)).toThrow(/the archive does not hold mysql-bin\.000009, where backup 20261125T140000Z-L's position lies/);
  });
});

describe('a physical backup\'s server settings', () => {
  it('carries the InnoDB layout of backup-my.cnf, nothing else', () => {
    const cnf = [
      '# This options file was generated by innobackupex.', '', '# The server', '[mysqld]',
      'innodb_checksum_algorithm=crc32', 'innodb_data_file_path=ibdata1:12M:autoextend', 'innodb_log_file_size=100663296',
      'innodb_page_size=4096', 'innodb_undo_directory=./', 'innodb_undo_tablespaces=3', '[client]', 'innodb_page_size=8192',
    ].join('\n');
    expect(serverSettingsOf(cnf)).toEqual({ innodb_data_file_path: 'ibdata1:12M:autoextend', innodb_page_size: '4096', innodb_undo_tablespaces: '3' });
    expect(serverSettingsOf('')).toEqual({});
  });
});

describe('GTID and position targets', () => {
  const events = () => {
    const out: BinlogEvent[] = [];
    scanBinlogBuffer(fixture('closed.000004'), (e) => out.push(e));
    return out;
  };
  const track = (want: { gtid?: string; position?: number }) => {
    const t = new BoundaryTracker(want);
    for (const e of events()) t.push(e);
    t.finish(1588);
    return t;
  };

  it('reads GTIDs from the event headers, as mariadb-binlog prints them', () => {
    expect(events().filter((e) => e.gtid).map((e) => [e.start, e.gtid])).toEqual([
      [385, '0-1-36'], [557, '0-1-37'], [793, '0-1-38'], [1160, '0-1-39'], [1382, '0-1-40'],
    ]);
  });

  it('finds where a transaction ends: at the next GTID, or at the file\'s closing event', () => {
    expect(track({ gtid: '0-1-38' }).found).toEqual({ gtid: '0-1-38', start: 793, end: 1160, ts: Date.parse('2026-11-25T18:25:31Z') / 1000 });
    expect(track({ gtid: '0-1-40' }).found).toMatchObject({ start: 1382, end: 1541 });
    expect(track({ gtid: '0-1-41' }).found).toBeUndefined();
    expect(track({}).gtidRange).toEqual({ first: '0-1-36', last: '0-1-40' });
  });

  it('accepts a position only on a transaction boundary', () => {
    for (const pos of [4, 256, 385, 793, 1541, 1588]) expect(track({ position: pos }).atPosition, String(pos)).toEqual({ kind: 'boundary' });
    // The Xid of 0-1-38, and the DDL statement after its GTID event.
    expect(track({ position: 1129 }).atPosition).toEqual({ kind: 'inside', span: expect.objectContaining({ gtid: '0-1-38', start: 793, end: 1160 }) });
    expect(track({ position: 427 }).atPosition).toEqual({ kind: 'inside', span: expect.objectContaining({ gtid: '0-1-36', start: 385, end: 557 }) });
    expect(track({ position: 1130 }).atPosition).toEqual({ kind: 'between', before: 1129, after: 1160 });
    expect(track({ position: 2 }).atPosition).toEqual({ kind: 'between', before: -1, after: 4 });
  });

  it('reads --gtid and --position as typed, refusing other forms in one sentence', () => {
    expect(parseRestoreTarget({ gtid: ' 0-1-42 ' })).toEqual({ kind: 'gtid', gtid: '0-1-42' });
    expect(parseRestoreTarget({ position: 'mysql-bin.000003:1234' })).toEqual({ kind: 'position', file: 'mysql-bin.000003', position: 1234 });
    expect(() => parseRestoreTarget({ gtid: '3E11FA47-71CA-11E1-9E33-C80AA9429562:23' })).toThrow('is a MySQL GTID; dbdrill replays binlogs into MariaDB');
    expect(() => parseRestoreTarget({ gtid: '0-1' })).toThrow('--gtid "0-1" is not a MariaDB GTID; write it as domain-server-sequence, e.g. 0-1-42');
    expect(() => parseRestoreTarget({ position: '1234' })).toThrow('--position "1234" is not a binlog position; write it as FILE:POS');
    expect(() => parseRestoreTarget({ gtid: '0-1-2', to: 'latest' })).toThrow(/^Give exactly one restore target/);
    expect(gtidCoveredBy(parseGtid('0-1-20')!, '1-1-90,0-1-25')).toBe(true);
    expect(gtidCoveredBy(parseGtid('0-1-26')!, '0-1-25')).toBe(false);
    expect(gtidCoveredBy(parseGtid('2-1-1')!, '0-1-25')).toBe(false);
  });

  describe('located in an archive', () => {
    let repo: string;
    const files: ArchivedBinlog[] = [{ file: 'mysql-bin.000004', size: 1588, transactions: 5, lastEventAt: '2026-11-25T18:25:32Z' }];
    beforeAll(() => {
      repo = mkdtempSync(join(tmpdir(), 'dbdrill-locate-'));
      mkdirSync(join(repo, 'binlog'));
      writeFileSync(join(repo, 'binlog', 'mysql-bin.000004'), fixture('closed.000004'));
    });
    afterAll(() => rmSync(repo, { recursive: true, force: true }));
    const base = (gtid?: string): Manifest => ({
      formatVersion: 1, id: '20261125T182300Z-L', target: 'my', engine: 'mysql', kind: 'logical', type: 'full', status: 'complete',
      tool: { name: 'mariadb-dump', version: '10.11.18', argv: [] }, serverVersion: '10.11.18', startedAt: '2026-11-25T18:23:00Z', sizeBytes: 10,
      files: [], database: 'shop', mysql: { binlogFile: 'mysql-bin.000004', binlogPosition: 385, ...(gtid ? { gtid } : {}) },
    });

    it('stops after a GTID, or refuses one the backups already hold or the archive lacks, with the window', async () => {
      expect(await locateGtid(repo, files, [base('0-1-35')], '0-1-38', 'W')).toEqual({ file: 'mysql-bin.000004', position: 1160, gtid: '0-1-38', at: '2026-11-25T18:25:31.000Z' });
      await expect(locateGtid(repo, files, [base('0-1-38')], '0-1-37', 'W')).rejects.toThrow(
        'GTID 0-1-37 is already in every backup (the earliest, 20261125T182300Z-L, holds up to 0-1-38), so no replay can stop after it; the recoverable window is W.',
      );
      await expect(locateGtid(repo, files, [base('0-1-35')], '0-1-99', 'W')).rejects.toThrow(
        'GTID 0-1-99 is not in the binlog archive (the archived binlogs from mysql-bin.000004 hold GTIDs 0-1-36 … 0-1-40); the recoverable window is W.',
      );
    });

    it('checks a position against the archived file', async () => {
      expect(await checkPosition(repo, files, 'mysql-bin.000004', 1160, 'W')).toEqual({ file: 'mysql-bin.000004', position: 1160 });
      await expect(checkPosition(repo, files, 'mysql-bin.000004', 1129, 'W')).rejects.toThrow(
        'mysql-bin.000004:1129 is inside transaction 0-1-38 (mysql-bin.000004:793…1160); give --position mysql-bin.000004:793 to stop before it or mysql-bin.000004:1160 to include it.',
      );
      await expect(checkPosition(repo, files, 'mysql-bin.000004', 1130, 'W')).rejects.toThrow('mysql-bin.000004:1130 is not where an event starts (events start at 1129 and 1160)');
      await expect(checkPosition(repo, files, 'mysql-bin.000004', 9999, 'W')).rejects.toThrow('mysql-bin.000004:9999 is past the end of mysql-bin.000004 (its events end at 1588); the recoverable window is W.');
      await expect(checkPosition(repo, files, 'mysql-bin.000007', 4, 'W')).rejects.toThrow('mysql-bin.000007 is not in the binlog archive (it holds mysql-bin.000004 … mysql-bin.000004); the recoverable window is W.');
    });
  });

  describe('planned', () => {
    const manifest = (id: string, startedAt: string, file: string, position: number): Manifest => ({
      formatVersion: 1, id, target: 'my', engine: 'mysql', kind: 'logical', type: 'full', status: 'complete',
      tool: { name: 'mariadb-dump', version: '10.11.18', argv: [] }, serverVersion: '10.11.18', startedAt, sizeBytes: 1000,
      files: [], database: 'shop', mysql: { binlogFile: file, binlogPosition: position },
    });
    const f = (n: number, last: string): ArchivedBinlog => ({ file: `mysql-bin.${String(n).padStart(6, '0')}`, size: 5000, lastEventAt: last, transactions: 3 });
    const b1 = manifest('20261125T100000Z-L', '2026-11-25T10:00:00Z', 'mysql-bin.000001', 400);
    const b2 = manifest('20261125T120000Z-L', '2026-11-25T12:00:00Z', 'mysql-bin.000004', 300);
    const files = [f(1, '2026-11-25T10:30:00Z'), f(2, '2026-11-25T11:00:00Z'), f(4, '2026-11-25T12:30:00Z'), f(5, '2026-11-25T13:00:00Z')];
    const inv = { files, gaps: findBinlogGaps(files.map((x) => x.file)) };
    const window = computeMysqlWindow([b1, b2], inv);
    const gtid = (g: string): RestoreTarget => ({ kind: 'gtid', gtid: g });
    const pos = (file: string, position: number): RestoreTarget => ({ kind: 'position', file, position });

    it('replays from the closest backup before the stop, up to the stop\'s file, with --stop-position there', () => {
      const p = planMysqlRestore(gtid('0-1-50'), [b1, b2], inv, window, { stop: { file: 'mysql-bin.000002', position: 1160, gtid: '0-1-50', at: '2026-11-25T10:50:00Z' } });
      expect([p.backup.id, p.files.map((x) => x.file), p.stopPosition, p.stopAt]).toEqual([b1.id, ['mysql-bin.000001', 'mysql-bin.000002'], 1160, undefined]);
      expect(p.notes).toEqual(['stops after transaction 0-1-50, which ends at mysql-bin.000002:1160 (logged 2026-11-25 10:50:00Z)']);
      expect(p.estimatedBytes).toBe(1000 + (5000 - 400) + 1160);
      const q = planMysqlRestore(pos('mysql-bin.000005', 700), [b1, b2], inv, window, { stop: { file: 'mysql-bin.000005', position: 700 } });
      expect([q.backup.id, q.files.map((x) => x.file), q.stopPosition, q.notes]).toEqual([b2.id, ['mysql-bin.000004', 'mysql-bin.000005'], 700, ['stops before the event at mysql-bin.000005:700']]);
      const same = planMysqlRestore(pos('mysql-bin.000004', 300), [b1, b2], inv, window, { stop: { file: 'mysql-bin.000004', position: 300 } });
      expect([same.backup.id, same.files, same.stopPosition]).toEqual([b2.id, [], undefined]);
      expect(replayArgs({ files: [{ path: '/r/b.000001', size: 5000 }, { path: '/r/b.000002', size: 5000 }], startPosition: 400, stopPosition: 1160, schema: 'shop' })).toEqual([
        '--disable-log-bin', '--verify-binlog-checksum', '--database=shop', '--start-position=400', '--stop-position=1160', '/r/b.000001', '/r/b.000002',
      ]);
    });

    it('refuses a stop before every backup or beyond a gap, in one sentence with the window', () => {
      expect(() => planMysqlRestore(pos('mysql-bin.000001', 200), [b1, b2], inv, window, { stop: { file: 'mysql-bin.000001', position: 200 } })).toThrow(
        'mysql-bin.000001:200 is before the binlog position of every backup (the earliest is mysql-bin.000001:400, backup 20261125T100000Z-L); the recoverable window is 2026-11-25 10:00:00Z → 2026-11-25 13:00:00Z.',
      );
      expect(() => planMysqlRestore(gtid('0-1-70'), [b1], inv, computeMysqlWindow([b1], inv), { stop: { file: 'mysql-bin.000004', position: 200, gtid: '0-1-70' } })).toThrow(
        'GTID 0-1-70 (ending at mysql-bin.000004:200) is past the end of the recoverable window (2026-11-25 10:00:00Z → 2026-11-25 11:00:00Z): replay would stop at the gap mysql-bin.000003…mysql-bin.000003 in the binlog archive; choose an earlier one, or --to latest to replay everything archived.',
      );
    });
  });
});
