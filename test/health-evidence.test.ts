import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { thresholdsOf } from '../src/config/health-settings.js';
import { TargetStore } from '../src/config/store.js';
import { checkHealth } from '../src/ops/health.js';
import { readBinlogSyncRuns, recordBinlogSyncRun, syncSchedule, SYNC_RUNS_KEPT, type BinlogSyncRun } from '../src/health/binlog-sync-runs.js';
import { localDiskOf } from '../src/health/local-disk.js';
import { deriveMysqlBinlog } from '../src/health/mysql-derive.js';
import { binlogGrowth } from '../src/health/mysql-evidence.js';
import type { MysqlSample } from '../src/health/mysql-sample.js';
import { derivePgArchive } from '../src/health/pg-derive.js';
import { walGrowth } from '../src/health/pg-evidence.js';
import type { PgSample } from '../src/health/pg-sample.js';
import { renderPromTextfile } from '../src/health/prom.js';
import { assembleReport } from '../src/health/report.js';
import { HISTORY_MAX_SAMPLES, loadSampleHistory, sampleHistoryFile, saveSampleHistory } from '../src/health/sample-history.js';
import { parsePromText } from './helpers/prom-parse.js';

/**
 * Broken told from slow, on samples shaped like the real ones (health-archive-faults.test.ts shows
 * the same on a live server): each kind of evidence, what is not evidence, and the words.
 */
const T0 = Date.parse('2026-11-24T12:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const seg = (n: number) => `0000000100000000000000${n.toString(16).toUpperCase().padStart(2, '0')}`;
const SEG = 16 << 20;
const TH = thresholdsOf(undefined);
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'dbdrill-health-ev-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function pg(t: number, over: Partial<PgSample> = {}): PgSample {
  return {
    at: at(t),
    systemId: '7300000000000000001',
    serverVersionNum: 150014,
    inRecovery: false,
    archiveMode: 'on',
    archiveCommand: 'dbdrill wal-push prod %p',
    archiveLibrary: '',
    archiveTimeoutSeconds: 60,
    archivedCount: 10,
    lastArchivedWal: seg(10),
    lastArchivedTime: at(-100),
    failedCount: 0,
    lastFailedWal: null,
    lastFailedTime: null,
    statsReset: at(-86400),
    readyCount: 0,
    oldestReady: null,
    oldestReadyTime: null,
    currentWal: seg(12),
    walBytes: 80 << 20,
    readyBytes: (over.readyCount ?? 0) * SEG,
    walSegmentBytes: SEG,
    walLsnBytes: 12 * SEG + 4096,
    postmasterStart: at(-86400),
    archiver: { pid: 100, startedAt: at(-86400), waitEvent: 'ArchiverMain' },
    dataDirectory: '/var/lib/postgresql/15/main',
    walDisk: { path: '/var/lib/postgresql/15/main/pg_wal', freeBytes: 10 * 1024 ** 3, totalBytes: 100 * 1024 ** 3 },
    ...over,
  };
}
/** Segment 11 closed at 0 and waits; nothing archived since. */
const waiting = (t: number, over: Partial<PgSample> = {}) => pg(t, { readyCount: 1, oldestReady: seg(11), oldestReadyTime: at(0), ...over });
const derive = (series: PgSample[]) => derivePgArchive(series, TH);
const archiving = (series: PgSample[]) => derive(series).checks.find((c) => c.name === 'archiving')!;

describe('PostgreSQL: evidence that archiving is broken', () => {
  it('no archiver process while a file waits is CRIT from one sample, with what is at risk in words', () => {
    const s = waiting(4, { archiver: null, walLsnBytes: 12 * SEG + 8 * 1024 * 1024 });
    const d = derive([s]);
    expect(d.view.evidence).toEqual([{ kind: 'archiver-down', since: at(4) }]);
    // Over several samples it says since when it has been missing.
    const three = derive([waiting(2), waiting(3, { archiver: null }), s]);
    expect(three.checks[0]!.reason).toContain('no archiver process runs (none seen since 12:00:03Z): archive_command probably exits above 125');
    expect(d.view.broken).toBe(true);
    const c = d.checks[0]!;
    expect(c.status).toBe('CRIT');
    expect(c.reason).toMatch(
      /^Nothing archived for 4s while 1 file waits to be archived, the oldest \(00000001000000000000000B\) for 4s, yet pg_stat_archiver counts no failure: no archiver process runs: archive_command probably exits above 125 or is killed by a signal/,
    );
    // One sample, the oldest waiting segment closed only 4 s ago: the rate is not guessed.
    expect(c.reason).toContain('1 file (16 MiB) waits since 12:00:00Z; how fast pg_wal grows cannot be told yet (one sample); the disk holding pg_wal (/var/lib/postgresql/15/main/pg_wal) has 10 GiB free.');
  });

  it('an archiver missing in a server\'s first seconds is not evidence', () => {
    expect(derive([waiting(4, { archiver: null, postmasterStart: at(2) })]).view.evidence).toEqual([]);
  });

  it('an archiver that exited between two samples while nothing moved is CRIT, naming the pids', () => {
    const series = [waiting(2), waiting(4, { archiver: { pid: 101, startedAt: at(3), waitEvent: 'ArchiverMain' } })];
    const d = derive(series);
    expect(d.view.evidence).toEqual([{ kind: 'archiver-restarted', exits: 1, since: at(2), pids: [100, 101] }]);
    expect(d.checks[0]!.reason).toContain('the archiver process exited once since 12:00:02Z (pid 100 → 101): archive_command probably exits above 125');
    // The same restart after the archive moved on is no evidence of anything.
    const moved = [pg(-10), pg(-5, { archiver: { pid: 101, startedAt: at(-6), waitEvent: 'ArchiverMain' }, archivedCount: 11, lastArchivedTime: at(-5) }), waiting(4, { archivedCount: 11, lastArchivedTime: at(-5), archiver: { pid: 101, startedAt: at(-6), waitEvent: 'ArchiverMain' } })];
    expect(derive(moved).view.broken).toBe(false);
  });

  it('a hung archive_command: no progress for archiveStall while the archiver sits in ArchiveCommand', () => {
    const inCmd = { archiver: { pid: 100, startedAt: at(-86400), waitEvent: 'ArchiveCommand' } };
    const early = derive([waiting(5, inCmd)]);
    expect(early.view).toMatchObject({ broken: false, unresolved: true, stallSeconds: 5 });
    expect(early.checks[0]!.status).toBe('OK');
    const late = derive([waiting(5, inCmd), waiting(31, inCmd)]);
    expect(late.view.evidence).toEqual([{ kind: 'stalled', seconds: 31, inCommand: true }]);
    expect(late.view.unresolved).toBe(false);
    expect(late.checks[0]!.reason).toContain('the archiver is still inside archive_command (wait event ArchiveCommand): archive_command probably hangs');
  });

  it('a failed attempt is CRIT at once, and says how far failed_count rose while nothing moved', () => {
    const f = (t: number, n: number) => waiting(t, { failedCount: n, lastFailedWal: seg(11), lastFailedTime: at(t - 1) });
    const c = archiving([f(2, 1), f(12, 4)]);
    expect(c.status).toBe('CRIT');
    expect(c.reason).toMatch(/^archive_command fails: 00000001000000000000000B failed 1s ago \(failed_count 4, up 3 in 10s\); 1 file waits to be archived/);
  });

  it('is not fooled: a working archiver that falls behind, a segment that just closed, a server just restarted', () => {
    // Far behind (the oldest waited 6 min) but archiving a segment a second: slow, graded by age.
    const behind = derive([pg(0, { readyCount: 40, oldestReady: seg(11), oldestReadyTime: at(-360), archivedCount: 500, lastArchivedTime: at(-1) })]);
    expect(behind.view).toMatchObject({ broken: false, stallSeconds: 1 });
    expect(behind.checks[0]).toMatchObject({ status: 'WARN' });
    expect(behind.checks[0]!.reason).toMatch(/^Archiving falls behind: 40 files wait/);
    // A server restarted with an old backlog: its new archiver gets its chance.
    const restarted = derive([pg(3, { readyCount: 5, oldestReady: seg(11), oldestReadyTime: at(-600), postmasterStart: at(0), archiver: { pid: 7, startedAt: at(0), waitEvent: 'ArchiveCommand' } })]);
    expect(restarted.view).toMatchObject({ broken: false, stallSeconds: 3, unresolved: true });
  });

  it('a steady load: segments close and are archived between samples, never broken', () => {
    const series = Array.from({ length: 30 }, (_, i) => {
      const t = i * 2;
      // Every other sample catches a segment that closed 0.3 s ago and is being copied.
      const busy = i % 2 === 1;
      return pg(t, {
        archivedCount: 10 + i,
        lastArchivedTime: at(t - 1.7),
        lastArchivedWal: seg(10 + i),
        currentWal: seg(12 + i),
        walLsnBytes: (12 + i) * SEG,
        ...(busy ? { readyCount: 1, oldestReady: seg(11 + i), oldestReadyTime: at(t - 0.3), archiver: { pid: 100, startedAt: at(-86400), waitEvent: 'ArchiveCommand' } } : {}),
      });
    });
    for (let n = 1; n <= series.length; n++) {
      const d = derive(series.slice(0, n));
      expect(d.view.broken, `sample ${n}`).toBe(false);
      expect(d.checks[0]!.status).toBe('OK');
    }
    // 16 MiB every 2 s.
    expect(walGrowth(series)).toEqual({ bytesPerSecond: SEG / 2, basis: 'lsn' });
  });

  it('pg_wal growth from the samples, or from the WAL written since the oldest waiting segment closed; the disk forecast', () => {
    // One sample: segment 11 closed at 0, 20 s later the server writes 5 MiB into segment 13.
    const one = waiting(20, { archiver: null, walLsnBytes: 13 * SEG + 5 * 1024 * 1024 });
    expect(walGrowth([one])).toEqual({ bytesPerSecond: (SEG + 5 * 1024 * 1024) / 20, basis: 'backlog' });
    const d = derive([one]);
    expect(d.view.diskFullInSeconds).toBeCloseTo((10 * 1024 ** 3) / ((SEG + 5 * 1024 * 1024) / 20));
    expect(d.checks[0]!.reason).toMatch(/pg_wal grows with the WAL written, 1\.1 MiB\/s; the disk holding pg_wal \(\/var\/lib\/postgresql\/15\/main\/pg_wal\) has 10 GiB free: full in about 2h42m at that rate\.$/);
    const remote = derive([waiting(20, { archiver: null, walDisk: { unknown: 'the server at db1 is not on this machine' } })]);
    expect(remote.checks[0]!.reason).toContain('when the disk holding pg_wal is full cannot be told: the server at db1 is not on this machine.');
    expect(remote.view.diskFullInSeconds).toBeNull();
  });
});

describe('the disk holding pg_wal or the binlogs', () => {
  it('statfs of a local directory that holds the file being written; otherwise a reason', () => {
    const dir = tmp();
    writeFileSync(join(dir, seg(12)), '');
    const local = localDiskOf('127.0.0.1', dir, seg(12));
    expect(local).toMatchObject({ path: dir });
    expect((local as { freeBytes: number }).freeBytes).toBeGreaterThan(0);
    expect(localDiskOf('db1.example', dir, seg(12))).toEqual({ unknown: 'the server at db1.example is not on this machine' });
    expect(localDiskOf('localhost', dir, seg(13))).toEqual({ unknown: `${dir} belongs to another server or another machine` });
  });
});

function my(t: number, over: Partial<MysqlSample> = {}): MysqlSample {
  return {
    at: at(t),
    flavor: 'mariadb',
    version: '10.11.8',
    systemId: 'db1:3306/server_id=1',
    logBin: true,
    binlogFormat: 'ROW',
    binlogs: [
      { name: 'mysql-bin.000005', bytes: 1000 },
      { name: 'mysql-bin.000006', bytes: 2000 },
      { name: 'mysql-bin.000007', bytes: 300 },
    ],
    binlogDir: '/var/lib/mysql',
    archive: { dir: '/repo/binlog', present: true, count: 5, newest: [{ name: 'mysql-bin.000005', base: 'mysql-bin', seq: 5, mtime: at(-30), bytes: 1000 }] },
    ...over,
  };
}
const run = (start: number, ok = true, error?: string): BinlogSyncRun => ({ startedAt: at(start), finishedAt: at(start + 1), ok, ...(error ? { error } : {}) });
const binlogCheck = (series: MysqlSample[], th = TH) => deriveMysqlBinlog(series, th).checks.find((c) => c.name === 'archiving')!;

describe('MySQL/MariaDB: evidence that binlog-sync is broken', () => {
  it('its last run failed while a closed binlog waits: CRIT at once, with its sentence', () => {
    const s = my(10, { sync: [run(-120), run(-60), run(5, false, 'Access denied for user "backup" (wrong password?); check the target\'s passwordEnv.')] });
    const c = binlogCheck([s]);
    expect(c.status).toBe('CRIT');
    expect(c.reason).toMatch(/^binlog-sync fails: its last run failed 4s ago \(12:00:06Z\): Access denied for user "backup" \(wrong password\?\); check the target's passwordEnv\. 1 closed binlog not archived yet \(mysql-bin\.000006\); the newest archived, mysql-bin\.000005, was written 40s ago\. 2\.0 KiB of closed binlogs wait/);
    // Nothing waits yet: a warning that the next closed binlog will not be archived.
    const idle = my(10, { binlogs: [{ name: 'mysql-bin.000005', bytes: 1000 }, { name: 'mysql-bin.000006', bytes: 30 }], sync: s.sync! });
    expect(binlogCheck([idle])).toMatchObject({ status: 'WARN' });
  });

  it('overdue against health.binlogSyncEvery, or against a schedule learned from regular runs', () => {
    const runs = [run(-250), run(-190), run(-130), run(-70)];
    // Learned: every 60 s; the last run started 80 s ago, overdue by 20 s > slack 15 s.
    const s = my(10, { sync: runs });
    const c = binlogCheck([s]);
    expect(c.status).toBe('CRIT');
    expect(c.reason).toMatch(/^binlog-sync has not run since 1m20s ago \(11:58:50Z\) though it ran every 1m: it is not running\. 1 closed binlog not archived yet/);
    // 70 s after the last start: inside the slack, graded by age as before (40 s: OK).
    expect(binlogCheck([my(0, { sync: runs })]).status).toBe('OK');
    // Configured wins, and says so.
    const configured = binlogCheck([my(10, { sync: [run(-30)] })], thresholdsOf({ binlogSyncEvery: '10s' }));
    expect(configured.reason).toContain('though health.binlogSyncEvery is 10s: it is not running');
    // Runs by hand now and then teach no schedule.
    expect(syncSchedule([run(-900), run(-300), run(-280), run(-10)], null)).toBeNull();
    expect(syncSchedule(runs.slice(1), null)).toBeNull();
  });

  it('binlog growth across samples counts rotations, not purges', () => {
    const a = my(0);
    const b = my(10, { binlogs: [{ name: 'mysql-bin.000006', bytes: 2000 }, { name: 'mysql-bin.000007', bytes: 5000 }, { name: 'mysql-bin.000008', bytes: 300 }] });
    expect(binlogGrowth([a, b])).toBe((5000 + 300 - 300) / 10);
    expect(binlogGrowth([b])).toBeNull();
  });
});

describe('state kept in the config directory', () => {
  it('the sample history: round trip, bounded, old samples dropped, damage read as empty', () => {
    const dir = tmp();
    const now = Date.parse(at(3000));
    const samples = Array.from({ length: 60 }, (_, i) => waiting(1000 + i * 33));
    expect(saveSampleHistory(dir, 'prod', { engine: 'postgres', samples }, now)).toBeUndefined();
    const file = sampleHistoryFile(dir, 'prod');
    expect(file).toBe(join(dir, 'state', 'prod', 'health-samples.json'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const back = loadSampleHistory(dir, 'prod', 'postgres', now);
    expect(back.samples.length).toBeLessThanOrEqual(HISTORY_MAX_SAMPLES);
    expect(back.samples.every((s) => now - Date.parse(s.at) <= 15 * 60_000)).toBe(true);
    expect(back.samples.at(-1)).toEqual({ ...samples.at(-1), archiveCommand: '(set)' });
    // archive_command may hold a credential: only whether one is set is kept.
    expect(readFileSync(file, 'utf8')).not.toContain('wal-push');
    expect(loadSampleHistory(dir, 'prod', 'mysql', now).samples).toEqual([]);
    expect(loadSampleHistory(dir, 'prod', 'postgres', now + 3600_000).samples).toEqual([]);
    writeFileSync(file, '{"version":1,"engine":"postgres","samples":[{"at":"x"},');
    expect(loadSampleHistory(dir, 'prod', 'postgres', now).samples).toEqual([]);
    writeFileSync(file, JSON.stringify({ version: 0, engine: 'postgres', samples }));
    expect(loadSampleHistory(dir, 'prod', 'postgres', now).samples).toEqual([]);
    // A config directory that cannot be written is one phrase, not an exception.
    writeFileSync(join(dir, 'state', 'blocked'), '');
    expect(saveSampleHistory(join(dir, 'state', 'blocked'), 'prod', { engine: 'postgres', samples }, now)).toMatch(/cannot be written \(ENOTDIR\)$/);
  });

  it('a one-shot whose samples cannot be kept still answers, and says so once', async () => {
    const dir = tmp();
    new TargetStore(dir).add({ name: 'gone', engine: 'postgres', host: '127.0.0.1', port: 1, user: 'x', dbname: 'postgres', repo: join(dir, 'repo') });
    writeFileSync(join(dir, 'state'), 'not a directory');
    const notes: string[] = [];
    const r = await checkHealth(dir, 'gone', { window: null, onHistoryError: (s) => notes.push(s) });
    expect(r.status).toBe('CRIT');
    expect(r.checks[0]).toMatchObject({ name: 'server', status: 'CRIT' });
    expect(notes).toEqual([`${join(dir, 'state', 'gone', 'health-samples.json')} cannot be written (ENOTDIR)`]);
  });

  it('binlog-sync\'s runs: appended, bounded, damage read as empty', () => {
    const dir = tmp();
    for (let i = 0; i < SYNC_RUNS_KEPT + 5; i++) recordBinlogSyncRun(dir, 'shop', run(i * 60, i % 7 !== 3, i % 7 === 3 ? 'boom.' : undefined));
    const runs = readBinlogSyncRuns(dir, 'shop');
    expect(runs).toHaveLength(SYNC_RUNS_KEPT);
    expect(runs.at(-1)!.startedAt).toBe(at((SYNC_RUNS_KEPT + 4) * 60));
    writeFileSync(join(dir, 'state', 'shop', 'binlog-sync-runs.json'), 'not json');
    expect(readBinlogSyncRuns(dir, 'shop')).toEqual([]);
  });
});

describe('the evidence in the Prometheus textfile', () => {
  it('broken, each kind of evidence, stall, backlog bytes, the archiver, WAL rate and the disk', () => {
    const series = [waiting(2), waiting(40, { archiver: null, walLsnBytes: 13 * SEG })];
    const d = derive(series);
    const r = assembleReport(
      {
        target: 'prod', engine: 'postgres', at: at(40), checks: d.checks, server: { reachable: true }, archive: d.view,
        backup: { count: 0, newestComplete: null, newest: null }, thresholds: TH,
      },
      [],
    );
    const fam = parsePromText(renderPromTextfile([r]));
    const v = (name: string, labels: Record<string, string> = {}) =>
      fam.get(name)?.samples.find((x) => Object.entries({ target: 'prod', ...labels }).every(([k, val]) => x.labels[k] === val))?.value;
    expect(v('dbdrill_archive_broken')).toBe(1);
    expect(v('dbdrill_archive_evidence', { kind: 'archiver-down' })).toBe(1);
    expect(v('dbdrill_archive_evidence', { kind: 'archiver-restarted' })).toBe(1);
    expect(v('dbdrill_archive_evidence', { kind: 'stalled' })).toBe(1);
    expect(v('dbdrill_archive_evidence', { kind: 'failing' })).toBe(0);
    expect(v('dbdrill_archive_stall_seconds')).toBe(40);
    expect(v('dbdrill_archive_backlog_bytes')).toBe(SEG);
    expect(v('dbdrill_archiver_up')).toBe(0);
    expect(fam.has('dbdrill_archiver_start_timestamp_seconds')).toBe(false);
    expect(v('dbdrill_log_write_bytes_per_second')).toBeCloseTo((SEG - 4096) / 38, 0);
    expect(v('dbdrill_log_disk_free_bytes')).toBe(10 * 1024 ** 3);
    expect(v('dbdrill_log_disk_full_in_seconds')).toBeGreaterThan(0);
  });
});
