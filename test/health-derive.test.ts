import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { thresholdsOf, validateHealthSettings } from '../src/config/health-settings.js';
import { validateTarget } from '../src/config/target.js';
import { deriveBackupChecks, type BackupEntry, type BackupFacts } from '../src/health/backup-checks.js';
import { readBinlogArchive } from '../src/health/binlog-archive.js';
import { deriveMysqlBinlog } from '../src/health/mysql-derive.js';
import type { MysqlSample } from '../src/health/mysql-sample.js';
import { counterWindow, derivePgArchive, estimateRpo } from '../src/health/pg-derive.js';
import type { PgSample } from '../src/health/pg-sample.js';
import { renderPromTextfile } from '../src/health/prom.js';
import { assembleReport } from '../src/health/report.js';
import { exitCodeOf, worst } from '../src/health/status.js';
import { parsePromText } from './helpers/prom-parse.js';

const T0 = Date.parse('2026-11-24T12:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const seg = (n: number) => `0000000100000000000000${n.toString(16).toUpperCase().padStart(2, '0')}`;
/** Test thresholds: warn after 60 s, critical after 300 s. */
const TH = thresholdsOf({ archiveWarn: '60s', archiveCrit: '5m', backupWarn: '26h', backupCrit: '50h' });

function pg(t: number, over: Partial<PgSample> = {}): PgSample {
  return {
    at: at(t),
    systemId: '7300000000000000001',
    serverVersionNum: 150014,
    inRecovery: false,
    archiveMode: 'on',
    archiveCommand: 'dbdrill wal-push prod %p',
    archiveLibrary: '',
    archiveTimeoutSeconds: 0,
    archivedCount: 10,
    lastArchivedWal: seg(10),
    lastArchivedTime: at(t - 5),
    failedCount: 0,
    lastFailedWal: null,
    lastFailedTime: null,
    statsReset: at(-86400),
    readyCount: 0,
    oldestReady: null,
    oldestReadyTime: null,
    currentWal: seg(11),
    walBytes: 48 << 20,
    readyBytes: (over.readyCount ?? 0) * (16 << 20),
    walSegmentBytes: 16 << 20,
    walLsnBytes: 12 * (16 << 20) - (8 << 20),
    postmasterStart: at(-86400),
    archiver: { pid: 100, startedAt: at(-86400), waitEvent: 'ArchiverMain' },
    dataDirectory: '/var/lib/postgresql/15/main',
    ...over,
  };
}

const archiving = (series: PgSample[], opts: { rpoSeconds?: number } = {}) => derivePgArchive(series, TH, opts).checks.find((c) => c.name === 'archiving')!;

describe('PostgreSQL archive derivation', () => {
  it('is OK when nothing waits, and measures the archive rate over the series', () => {
    const series = [0, 30, 60].map((t, i) => pg(t, { archivedCount: 10 + 2 * i, lastArchivedTime: at(t - 1), lastArchivedWal: seg(10 + 2 * i) }));
    const d = derivePgArchive(series, TH);
    expect(d.checks.map((c) => [c.name, c.status])).toEqual([['archiving', 'OK'], ['rpo', 'OK']]);
    expect(d.view.ratePerMinute).toBeCloseTo(4);
    expect(d.view.lastSuccessAgeSeconds).toBe(1);
    expect(d.view.window).toMatchObject({ seconds: 60, samples: 3, archived: 4, failed: 0, backlogDelta: 0 });
    expect(archiving(series).reason).toMatch(/^Nothing waits to be archived; last archived 00000001000000000000000E 1s ago\.$/);
  });

  it('has no rate from a single sample', () => {
    expect(derivePgArchive([pg(0)], TH).view.ratePerMinute).toBeNull();
  });

  it('calls archive_mode=off critical: no point-in-time recovery', () => {
    const c = archiving([pg(0, { archiveMode: 'off', archiveCommand: '(disabled)' })]);
    expect(c.status).toBe('CRIT');
    expect(c.reason).toMatch(/^archive_mode is off: /);
    expect(estimateRpo(pg(0, { archiveMode: 'off' })).basis).toBe('none');
  });

  it('calls an empty archive_command critical', () => {
    const c = archiving([pg(0, { archiveCommand: '', readyCount: 4, oldestReady: seg(7), oldestReadyTime: at(-100) })]);
    expect(c).toMatchObject({ status: 'CRIT' });
    expect(c.reason).toContain('archive_command is empty');
    expect(c.reason).toContain('4 files waiting');
  });

  it('accepts archive_library in place of archive_command', () => {
    expect(archiving([pg(0, { archiveCommand: '', archiveLibrary: 'basic_archive' })]).status).toBe('OK');
  });

  it('names the failing segment and is CRIT at once: a failed attempt is evidence that archiving is broken, not slow', () => {
    const failing = (t: number, failed: number) =>
      pg(t, { readyCount: 1, oldestReady: seg(11), oldestReadyTime: at(0), lastArchivedTime: at(-2), failedCount: failed, lastFailedWal: seg(11), lastFailedTime: at(t - 1) });
    const early = archiving([failing(3, 3)]);
    expect(early.status).toBe('CRIT');
    expect(early.reason).toMatch(/^archive_command fails: 00000001000000000000000B failed 1s ago \(failed_count 3\); 1 file waits to be archived, the oldest \(00000001000000000000000B\) for 3s/);
    expect(archiving([failing(61, 9)]).status).toBe('CRIT');
    const late = archiving([failing(3, 3), failing(301, 30)]);
    expect(late.status).toBe('CRIT');
    expect(late.reason).toContain('00000001000000000000000B');
  });

  it('catches the blind spot: backlog grows, nothing archived, failed_count does not move → CRIT', () => {
    // archive_command exits 200: the archiver dies before counting the failure, so pg_stat_archiver
    // shows the same failed_count (and an old last_failed_wal) sample after sample.
    const old = { failedCount: 2, lastFailedWal: seg(3), lastFailedTime: at(-3600) };
    const series = [0, 60, 120, 180, 240, 310].map((t, i) =>
      pg(t, { ...old, archivedCount: 10, lastArchivedTime: at(-1), readyCount: 1 + i, oldestReady: seg(11), oldestReadyTime: at(0) }),
    );
    const c = archiving(series);
    expect(c.status).toBe('CRIT');
    expect(c.reason).toMatch(/^Nothing archived for 5m10s while 6 files wait to be archived, the oldest \(00000001000000000000000B\) for 5m10s, yet pg_stat_archiver counts no failure \(failed_count stayed at 2 over the last 5m10s of samples\): archive_command probably exits above 125/);
    expect(c.reason).toContain('the backlog grew by 5');
    // The same moment seen in one sample only (the CLI's one-shot) is just as critical.
    expect(archiving([series.at(-1)!]).status).toBe('CRIT');
    // A minute without progress is past archiveStall (30 s): broken, not slow, whatever the age.
    expect(archiving(series.slice(0, 2)).status).toBe('CRIT');
    expect(archiving(series.slice(0, 1)).status).toBe('OK');
  });

  it('does not raise an alarm for a segment that just arrived after a quiet day', () => {
    const s = pg(0, { lastArchivedTime: at(-86400), readyCount: 1, oldestReady: seg(11), oldestReadyTime: at(-1) });
    const d = derivePgArchive([s], TH);
    expect(d.checks[0]!.status).toBe('OK');
    expect(d.view.stallSeconds).toBe(1);
    // …but the changes it holds may be a day old: that is the RPO estimate's business.
    expect(d.view.rpo).toMatchObject({ basis: 'backlog', seconds: 86400 });
  });

  it('says when archiving falls behind although it progresses', () => {
    const series = [0, 60, 120].map((t, i) =>
      pg(t, { archivedCount: 100 + 5 * i, lastArchivedTime: at(t - 1), readyCount: 10 + 20 * i, oldestReady: seg(20 + 5 * i), oldestReadyTime: at(-120 + 5 * i) }),
    );
    const c = archiving(series);
    expect(c.status).toBe('WARN');
    expect(c.reason).toMatch(/^Archiving falls behind: 50 files wait to be archived, the oldest \(.*\) for 3m50s; last archived .* 1s ago at 5\.0 segments\/min; the backlog grew by 40 in 2m\.$/);
  });

  it('restarts the counter window after a statistics reset', () => {
    const series = [pg(0, { archivedCount: 50 }), pg(30, { archivedCount: 55 }), pg(60, { archivedCount: 1, statsReset: at(45) }), pg(90, { archivedCount: 3, statsReset: at(45) })];
    expect(counterWindow(series)).toHaveLength(2);
    expect(derivePgArchive(series, TH).view.window).toMatchObject({ archived: 2, samples: 2, seconds: 90 - 60 });
  });

  it('treats a standby without archive_mode=always as archived by its primary', () => {
    expect(archiving([pg(0, { inRecovery: true, currentWal: null })])).toMatchObject({ status: 'OK' });
  });

  it('estimates the RPO from the backlog, archive_timeout, or says it is unbounded', () => {
    expect(estimateRpo(pg(0, { archiveTimeoutSeconds: 60, lastArchivedTime: at(-20) }))).toMatchObject({ basis: 'archive_timeout', seconds: 20 });
    expect(estimateRpo(pg(0, { archiveTimeoutSeconds: 60, lastArchivedTime: at(-200) }))).toMatchObject({ basis: 'archive_timeout', seconds: 60 });
    expect(estimateRpo(pg(0, { lastArchivedTime: at(-200) }))).toMatchObject({ basis: 'open-segment', seconds: 200 });
    expect(estimateRpo(pg(0, { lastArchivedTime: at(-30), readyCount: 2, oldestReadyTime: at(-10) }))).toMatchObject({ basis: 'backlog', seconds: 30 });
    const rpo = (s: PgSample, target: number) => derivePgArchive([s], TH, { rpoSeconds: target }).checks.find((c) => c.name === 'rpo')!;
    expect(rpo(pg(0), 900).status).toBe('WARN'); // archive_timeout = 0 cannot bound an RPO
    expect(rpo(pg(0, { archiveTimeoutSeconds: 1800 }), 900).reason).toContain('longer than the target\'s RPO of 15m');
    expect(rpo(pg(0, { archiveTimeoutSeconds: 60 }), 900)).toMatchObject({ status: 'OK' });
  });
});

function my(t: number, over: Partial<MysqlSample> = {}, archive: Partial<MysqlSample['archive']> = {}): MysqlSample {
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
    archive: { dir: '/repo/binlog', present: true, count: 6, newest: [{ name: 'mysql-bin.000006', base: 'mysql-bin', seq: 6, mtime: at(-30), bytes: 2000 }], ...archive },
    ...over,
  };
}
const binlogCheck = (series: MysqlSample[]) => deriveMysqlBinlog(series, TH).checks;

describe('MySQL/MariaDB binlog derivation', () => {
  it('is OK when every closed binlog is archived', () => {
    const [a, f] = binlogCheck([my(0)]);
    expect(a).toMatchObject({ name: 'archiving', status: 'OK' });
    expect(a!.reason).toBe('The archive is up to date with mysql-bin.000007 (newest archived mysql-bin.000006, written 30s ago).');
    expect(f).toMatchObject({ name: 'binlog_format', status: 'OK' });
  });

  it('calls log_bin=OFF critical', () => {
    const [a] = binlogCheck([my(0, { logBin: false, binlogs: [] })]);
    expect(a).toMatchObject({ status: 'CRIT' });
    expect(a!.reason).toMatch(/^log_bin is OFF/);
  });

  it('warns about binlog_format other than ROW', () => {
    const f = binlogCheck([my(0, { binlogFormat: 'MIXED' })])[1]!;
    expect(f.status).toBe('WARN');
    expect(f.reason).toContain('ROW is recommended');
  });

  it('warns when there is no binlog archive yet', () => {
    const [a] = binlogCheck([my(0, {}, { present: false, count: 0, newest: [] })]);
    expect(a).toMatchObject({ status: 'WARN', reason: 'No binlog archive yet in /repo/binlog; changes since the last backup are only on the server.' });
  });

  it('grades closed binlogs left unarchived by the age of the newest archived one', () => {
    const behind = (mtime: number) => my(0, {}, { newest: [{ name: 'mysql-bin.000005', base: 'mysql-bin', seq: 5, mtime: at(mtime), bytes: 1000 }] });
    expect(binlogCheck([behind(-10)])[0]).toMatchObject({ status: 'OK' });
    expect(binlogCheck([behind(-120)])[0]).toMatchObject({ status: 'WARN' });
    const crit = binlogCheck([behind(-3600)])[0]!;
    expect(crit.status).toBe('CRIT');
    expect(crit.reason).toBe('1 closed binlog not archived yet (mysql-bin.000006); the newest archived, mysql-bin.000005, was written 1h ago.');
    // The series saw it fall behind only 20 s ago (a quiet server rotating its binlog): not late yet.
    const series = [my(-40, { binlogs: [{ name: 'mysql-bin.000005', bytes: 1000 }] }), my(-20), my(0)].map((s) => ({
      ...s,
      archive: behind(-3600).archive,
    }));
    expect(deriveMysqlBinlog(series, TH).view.behindSince).toBe(at(-20));
    expect(binlogCheck(series)[0]).toMatchObject({ status: 'OK' });
  });

  it('sees a live stream that stopped: the archived current binlog is shorter and old', () => {
    const s = my(0, {}, { newest: [{ name: 'mysql-bin.000007', base: 'mysql-bin', seq: 7, mtime: at(-900), bytes: 100 }] });
    const d = deriveMysqlBinlog([s], TH);
    expect(d.view.currentBehind).toBe(true);
    expect(d.checks[0]).toMatchObject({ status: 'CRIT' });
  });

  it('calls binlogs purged before they were archived a critical hole', () => {
    const s = my(0, {}, { newest: [{ name: 'mysql-bin.000002', base: 'mysql-bin', seq: 2, mtime: at(-10), bytes: 1 }] });
    const a = binlogCheck([s])[0]!;
    expect(a.status).toBe('CRIT');
    expect(a.reason).toMatch(/^Binlogs mysql-bin\.000003 to mysql-bin\.000004 were purged from the server before they were archived/);
  });

  it('reads <repo>/binlog: newest per base name, compressed copies, temp files skipped', () => {
    const root = mkdtempSync(join(tmpdir(), 'dbdrill-health-binlog-'));
    try {
      expect(readBinlogArchive(root)).toMatchObject({ present: false, count: 0, newest: [] });
      mkdirSync(join(root, 'binlog'));
      expect(readBinlogArchive(root)).toMatchObject({ present: true, count: 0 });
      for (const n of ['mysql-bin.000001', 'mysql-bin.000002.zst', 'mysql-bin.index', '.mysql-bin.000003.part', 'mysql-bin.000003.part', 'other.000009']) {
        writeFileSync(join(root, 'binlog', n), 'x');
      }
      utimesSync(join(root, 'binlog', 'mysql-bin.000002.zst'), new Date(T0), new Date(T0));
      const a = readBinlogArchive(root);
      expect(a.count).toBe(3);
      expect(a.newest.find((n) => n.base === 'mysql-bin')).toMatchObject({ name: 'mysql-bin.000002.zst', seq: 2, mtime: at(0) });
      expect(a.newest.find((n) => n.base === 'other')).toMatchObject({ seq: 9 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

function entry(id: string, status: BackupEntry['status'], startedAt: number, extra: Partial<BackupEntry> = {}): BackupEntry {
  return { id, status, startedAt: at(startedAt), durationSeconds: 60, ...extra };
}
const facts = (over: Partial<BackupFacts> = {}): BackupFacts => ({
  target: 'prod',
  repo: '/repo',
  backups: [entry('20261124T110000Z-F', 'complete', -3600)],
  unreadable: [],
  repoInfo: { engine: 'postgres', systemId: '7300000000000000001' },
  engine: 'postgres',
  serverSystemId: '7300000000000000001',
  now: T0,
  ...over,
});
const backupChecks = (f: BackupFacts) => Object.fromEntries(deriveBackupChecks(f, TH).checks.map((c) => [c.name, c]));

describe('backup checks', () => {
  it('is OK with a fresh complete backup of this server', () => {
    const c = backupChecks(facts());
    expect(c.backup).toMatchObject({ status: 'OK', reason: 'The newest complete backup 20261124T110000Z-F finished 59m ago.' });
    expect(c['last_backup']!.status).toBe('OK');
    expect(c.repository).toMatchObject({ status: 'OK', reason: 'Repository /repo: system id 7300000000000000001 matches the server.' });
    expect(deriveBackupChecks(facts(), TH).view.newestComplete).toMatchObject({ ageSeconds: 3540 });
  });

  it('calls no backup at all critical', () => {
    expect(backupChecks(facts({ backups: [], repoInfo: undefined })).backup).toMatchObject({ status: 'CRIT', reason: 'No complete backup in /repo; take one with: dbdrill backup prod.' });
    const onlyFailed = backupChecks(facts({ backups: [entry('20261124T110000Z-L', 'failed', -60, { error: 'pg_dump exited 1' })] }));
    expect(onlyFailed.backup!.reason).toContain('(the newest, 20261124T110000Z-L, is failed: pg_dump exited 1)');
  });

  it('grades the newest complete backup by age: WARN after 26h, CRIT after 50h', () => {
    expect(backupChecks(facts({ backups: [entry('x', 'complete', -30 * 3600)] })).backup!.status).toBe('WARN');
    expect(backupChecks(facts({ backups: [entry('x', 'complete', -60 * 3600)] })).backup!.reason).toMatch(/finished 2d11h ago, more than 2d2h; check the backup schedule\.$/);
  });

  it('warns when the last run failed or was interrupted, not when one is running', () => {
    const ok = entry('20261124T100000Z-F', 'complete', -7200);
    expect(backupChecks(facts({ backups: [entry('20261124T115000Z-F', 'failed', -600, { error: 'disk full' }), ok] }))['last_backup']).toMatchObject({
      status: 'WARN',
      reason: 'The last backup, 20261124T115000Z-F, failed: disk full.',
    });
    expect(backupChecks(facts({ backups: [entry('b', 'interrupted', -600), ok] }))['last_backup']!.reason).toContain('was interrupted');
    expect(backupChecks(facts({ backups: [entry('b', 'running', -600), ok] }))['last_backup']!.status).toBe('OK');
  });

  it('calls a repository of another server critical', () => {
    const c = backupChecks(facts({ serverSystemId: '7399999999999999999' })).repository!;
    expect(c.status).toBe('CRIT');
    expect(c.reason).toContain('holds backups of another server (system id 7300000000000000001, this one is 7399999999999999999)');
    expect(backupChecks(facts({ repoInfo: { engine: 'mysql' } })).repository!.status).toBe('CRIT');
    expect(backupChecks(facts({ serverSystemId: undefined })).repository!.reason).toContain('not compared');
  });

  it('warns about unreadable manifests and a failed verification', () => {
    expect(backupChecks(facts({ unreadable: [{ id: 'b', error: 'bad json' }] })).repository!.status).toBe('WARN');
    const c = backupChecks(facts({ backups: [entry('x', 'complete', -60, { verified: { at: at(0), ok: false, method: 'sha256' } })] }));
    expect(c.verification).toMatchObject({ status: 'WARN' });
  });
});

describe('health settings in the target config', () => {
  const base = { name: 'prod', engine: 'postgres', repo: '/r' };
  it('validates and keeps the thresholds', () => {
    expect(validateTarget({ ...base, health: { backupWarn: '20h', archiveCrit: '10m' } }).health).toEqual({ backupWarn: '20h', archiveCrit: '10m' });
    expect(validateTarget(base).health).toBeUndefined();
    expect(thresholdsOf(undefined)).toEqual({ backupWarnSeconds: 26 * 3600, backupCritSeconds: 50 * 3600, archiveWarnSeconds: 300, archiveCritSeconds: 900, archiveStallSeconds: 30, binlogSyncEverySeconds: null });
    expect(thresholdsOf({ archiveWarn: '0.5s', archiveCrit: '2s' })).toMatchObject({ archiveWarnSeconds: 0.5, archiveCritSeconds: 2 });
  });
  it('refuses unknown keys, bad durations and warn >= crit with one sentence', () => {
    expect(() => validateTarget({ ...base, health: { backupwarn: '1h' } }, 'cfg')).toThrow('cfg: health.backupwarn is not a health setting; use backupWarn, backupCrit, archiveWarn, archiveCrit, archiveStall, binlogSyncEvery.');
    expect(() => validateHealthSettings({ archiveWarn: 'soon' })).toThrow('health.archiveWarn "soon" is not a duration');
    expect(() => validateHealthSettings({ backupCrit: '12h' })).toThrow('health.backupWarn (default 26h) must be shorter than health.backupCrit (12h).');
    expect(() => validateHealthSettings('26h')).toThrow('health must be an object');
  });
});

describe('status and the Prometheus textfile', () => {
  it('combines statuses Nagios style', () => {
    expect(worst(['OK', 'WARN', 'OK'])).toBe('WARN');
    expect(worst([])).toBe('OK');
    expect([exitCodeOf('OK'), exitCodeOf('WARN'), exitCodeOf('CRIT')]).toEqual([0, 3, 4]);
  });

  it('writes a valid exposition with HELP and TYPE for each family, several targets in one file', () => {
    const pgd = derivePgArchive([pg(0, { readyCount: 2, oldestReady: seg(11), oldestReadyTime: at(-400), failedCount: 7 })], TH);
    const b = deriveBackupChecks(facts(), TH);
    const r1 = assembleReport(
      {
        target: 'prod "main"\\eu',
        engine: 'postgres',
        at: at(0),
        checks: [...pgd.checks, ...b.checks],
        server: { reachable: true },
        archive: pgd.view,
        backup: b.view,
        window: { start: at(-86400), end: at(-5) },
        thresholds: TH,
      },
      [],
    );
    const r2 = assembleReport({ target: 'down', engine: 'mysql', at: at(0), checks: [{ name: 'server', status: 'CRIT', reason: 'refused' }], server: { reachable: false }, backup: { count: 0, newestComplete: null, newest: null }, thresholds: TH }, []);
    const text = renderPromTextfile([r1, r2]);
    const fam = parsePromText(text);
    const value = (name: string, target: string) => fam.get(name)?.samples.find((s) => s.labels.target === target)?.value;
    expect(value('dbdrill_health_status', 'prod "main"\\eu')).toBe(2);
    expect(value('dbdrill_health_status', 'down')).toBe(2);
    expect(value('dbdrill_server_up', 'down')).toBe(0);
    expect(value('dbdrill_archive_backlog_segments', 'prod "main"\\eu')).toBe(2);
    expect(value('dbdrill_archive_failed_total', 'prod "main"\\eu')).toBe(7);
    expect(fam.get('dbdrill_archive_failed_total')!.type).toBe('counter');
    expect(value('dbdrill_archive_last_success_age_seconds', 'prod "main"\\eu')).toBe(5);
    expect(value('dbdrill_backup_last_complete_age_seconds', 'prod "main"\\eu')).toBe(3540);
    expect(value('dbdrill_recoverable_window_start_timestamp_seconds', 'prod "main"\\eu')).toBe((T0 - 86400_000) / 1000);
    expect(value('dbdrill_recoverable_window_end_timestamp_seconds', 'prod "main"\\eu')).toBe((T0 - 5000) / 1000);
    // Unknown values are absent, not NaN.
    expect(value('dbdrill_archive_backlog_segments', 'down')).toBeUndefined();
    expect(fam.get('dbdrill_health_check_status')!.samples.find((s) => s.labels.check === 'archiving')).toMatchObject({ value: 2 });
    expect(text).toContain('target="prod \\"main\\"\\\\eu"');
  });

  it('the reader itself rejects malformed files', () => {
    expect(() => parsePromText('a 1\n')).toThrow('outside its family');
    expect(() => parsePromText('# HELP a x\n# TYPE a gauge\na{t="x} 1\n')).toThrow('bad labels');
    expect(() => parsePromText('# HELP a x\n# TYPE a gauge\na one\n')).toThrow('bad value');
    expect(() => parsePromText('# HELP a x\n# TYPE a gauge\na 1')).toThrow('newline');
  });
});
