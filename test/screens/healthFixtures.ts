import { thresholdsOf } from '../../src/config/health-settings.js';
import { deriveBackupChecks } from '../../src/health/backup-checks.js';
import { derivePgArchive } from '../../src/health/pg-derive.js';
import { deriveSlots } from '../../src/health/pg-slots.js';
import type { PgSample } from '../../src/health/pg-sample.js';
import { assembleReport, type HealthPoint, type HealthReport } from '../../src/health/report.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
export const at = (s: number) => new Date(T0 + s * 1000).toISOString();
export const seg = (n: number) => `0000000100000000000000${n.toString(16).toUpperCase().padStart(2, '0')}`;
const TH = thresholdsOf({ archiveWarn: '60s', archiveCrit: '2m', archiveStall: '90s' });

function sample(t: number, over: Partial<PgSample>): PgSample {
  return {
    at: at(t),
    systemId: '7300000000000000001',
    serverVersionNum: 150014,
    inRecovery: false,
    archiveMode: 'on',
    archiveCommand: 'dbdrill wal-push prod %p',
    archiveLibrary: '',
    archiveTimeoutSeconds: 60,
    archivedCount: 40,
    lastArchivedWal: seg(40),
    lastArchivedTime: at(t - 3),
    failedCount: 0,
    lastFailedWal: null,
    lastFailedTime: null,
    statsReset: at(-86400),
    readyCount: 0,
    oldestReady: null,
    oldestReadyTime: null,
    currentWal: seg(41),
    walBytes: 64 << 20,
    readyBytes: (over.readyCount ?? 0) * (16 << 20),
    walSegmentBytes: 16 << 20,
    walLsnBytes: 42 * (16 << 20),
    postmasterStart: at(-86400),
    archiver: { pid: 4242, startedAt: at(-86400), waitEvent: 'ArchiverMain' },
    dataDirectory: '/var/lib/postgresql/15/main',
    ...over,
  };
}

/**
 * A series of real derivations (src/health): archiving healthy for the first `healthy` samples,
 * then archive_command exits 200 — nothing archived, failed_count still, the .ready backlog
 * growing by one a sample — 30 s apart.
 */
export function pgSeries(count: number, healthy: number): HealthReport[] {
  const series: PgSample[] = [];
  const reports: HealthReport[] = [];
  let history: HealthPoint[] = [];
  for (let i = 0; i < count; i++) {
    const t = i * 30;
    const broken = i - healthy + 1;
    series.push(
      broken <= 0
        ? sample(t, { archivedCount: 40 + i, lastArchivedWal: seg(40 + i), lastArchivedTime: at(t - 2), currentWal: seg(41 + i) })
        : sample(t, {
            archivedCount: 40 + healthy - 1,
            lastArchivedWal: seg(40 + healthy - 1),
            lastArchivedTime: at((healthy - 1) * 30 - 2),
            readyCount: broken,
            oldestReady: seg(40 + healthy),
            oldestReadyTime: at((healthy - 1) * 30 + 1),
            currentWal: seg(41 + healthy - 1 + broken),
          }),
    );
    const d = derivePgArchive(series, TH);
    const backup = deriveBackupChecks(
      {
        target: 'prod',
        repo: '/srv/backups/prod',
        engine: 'postgres',
        backups: [{ id: '20261201T090000Z-F', status: 'complete', startedAt: '2026-12-01T09:00:00.000Z', durationSeconds: 60 }],
        unreadable: [],
        repoInfo: { engine: 'postgres', systemId: '7300000000000000001' },
        serverSystemId: '7300000000000000001',
        now: Date.parse(at(t)),
      },
      TH,
    );
    const r = assembleReport(
      {
        target: 'prod',
        engine: 'postgres',
        at: at(t),
        checks: [{ name: 'server', status: 'OK', reason: 'PostgreSQL 15.14 at 10.0.0.5:5432 answers.' }, ...d.checks, ...backup.checks],
        server: { reachable: true, version: '15.14', systemId: '7300000000000000001' },
        archive: d.view,
        backup: backup.view,
        window: { start: '2026-12-01T09:01:00.000Z', end: at(t - 3) },
        thresholds: TH,
      },
      history,
    );
    history = r.history;
    reports.push(r);
  }
  return reports;
}

/**
 * One report of a target that `dbdrill stream` feeds (real derivations: src/health/pg-slots.ts):
 * running, or stopped for five minutes with its slot retaining 900 MiB (CRIT).
 */
export function pgStreamReport(state: 'running' | 'stopped'): HealthReport {
  const running = state === 'running';
  const slot = {
    name: 'dbdrill_prod',
    active: running,
    walStatus: 'reserved',
    retainedBytes: running ? 16 << 20 : 900 << 20,
    application: running ? 'dbdrill_prod' : null,
    writeLagBytes: running ? 8192 : null,
    writeLagSeconds: running ? 0.3 : null,
    syncState: running ? 'sync' : null,
  };
  const series = [0, 150, 300].map((t) => sample(t, { archivedCount: 40, slots: [slot] }));
  const disk = { path: '/var/lib/postgresql', freeBytes: 12 * 2 ** 30, totalBytes: 100 * 2 ** 30 };
  const s = deriveSlots(series, 'dbdrill_prod', 'prod', disk);
  const d = derivePgArchive(series, TH, s.rpo ? { rpo: s.rpo } : {});
  if (s.stream) d.view.stream = s.stream;
  d.view.walDisk = disk;
  const backup = deriveBackupChecks(
    {
      target: 'prod',
      repo: '/srv/backups/prod',
      engine: 'postgres',
      backups: [{ id: '20261201T090000Z-F', status: 'complete', startedAt: '2026-12-01T09:00:00.000Z', durationSeconds: 60 }],
      unreadable: [],
      repoInfo: { engine: 'postgres', systemId: '7300000000000000001' },
      serverSystemId: '7300000000000000001',
      now: Date.parse(at(300)),
    },
    TH,
  );
  return assembleReport(
    {
      target: 'prod',
      engine: 'postgres',
      at: at(300),
      checks: [{ name: 'server', status: 'OK', reason: 'PostgreSQL 15.14 at 10.0.0.5:5432 answers.' }, ...d.checks, ...s.checks, ...backup.checks],
      server: { reachable: true, version: '15.14', systemId: '7300000000000000001' },
      archive: d.view,
      backup: backup.view,
      window: { start: '2026-12-01T09:01:00.000Z', end: at(299) },
      thresholds: TH,
    },
    [],
  );
}
