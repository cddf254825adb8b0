import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetStore } from '../src/config/store.js';
import { binlogSyncRunsFile } from '../src/health/binlog-sync-runs.js';
import type { HealthReport } from '../src/ops/health.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { parsePromText } from './helpers/prom-parse.js';
import { withMysql } from './helpers/sandbox.js';

/**
 * The MySQL/MariaDB half of issue 18 on a real MariaDB: binlog-sync failing, or not running, while
 * binlogs rotate is CRIT in `dbdrill health` within 60 s — not after archiveWarn/archiveCrit — and
 * back to OK once binlog-sync archives again. binlog-sync records each run in the config directory;
 * the target says binlog-sync runs every 10 s (health.binlogSyncEvery).
 */
const GOAL_MS = 60_000;
const cfg = tempConfigDir();
const NAME = 'hsync';
let server: SandboxInstance;

const env = (pw?: string) => ({ DBDRILL_CONFIG_DIR: cfg.dir, ...(pw !== undefined ? { HSYNC_PW: pw } : {}) });
const cli = (args: string[], pw?: string) => runCli(args, { env: env(pw), timeoutMs: 120_000 });
const health = async (args: string[] = []) => {
  const c = await cli(['health', NAME, '--json', ...args]);
  return { code: c.code, report: JSON.parse(c.stdout) as HealthReport };
};
const archiving = (r: HealthReport) => r.checks.find((c) => c.name === 'archiving')!;
const rotate = () => withMysql(server, (c) => c.query('FLUSH BINARY LOGS'));

beforeAll(async () => {
  try {
    server = await startMariadbSandbox({ binlog: true });
  } catch (e) {
    // Overlapping mariadb-install-db runs collide now and then (see health-mysql.test.ts).
    if (!/mariadb-install-db/.test((e as Error).message)) throw e;
    server = await startMariadbSandbox({ binlog: true });
  }
  process.env.HSYNC_PW = server.password;
  await withMysql(server, async (c) => {
    await c.query('CREATE DATABASE hsync');
    await c.query('CREATE TABLE hsync.t (n int PRIMARY KEY)');
  });
  new TargetStore(cfg.dir).add({
    name: NAME, engine: 'mysql', host: server.host, port: server.port, user: server.user, dbname: 'hsync', repo: join(cfg.dir, 'repo'), passwordEnv: 'HSYNC_PW',
    health: { binlogSyncEvery: '10s' },
  });
  const b = await cli(['backup', NAME, '--kind', 'logical']);
  expect(b.code, b.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  cfg.cleanup();
});

describe('binlog-sync health on MariaDB', () => {
  it('is OK while binlog-sync runs and archives every closed binlog; each run is recorded', async () => {
    const s = await cli(['binlog-sync', NAME, '--rotate']);
    expect(s.code, s.stderr).toBe(0);
    const runs = JSON.parse(readFileSync(binlogSyncRunsFile(cfg.dir, NAME), 'utf8')) as { runs: { ok: boolean; copied?: number }[] };
    expect(runs.runs.at(-1)).toMatchObject({ ok: true });
    const { code, report } = await health();
    expect(code, JSON.stringify(report.checks)).toBe(0);
    expect(report.binlog!.lastSync).toMatchObject({ ok: true });
    expect(report.binlog!.syncSchedule).toEqual({ everySeconds: 10, basis: 'configured' });
    expect(report.binlog!.broken).toBe(false);
  }, 60_000);

  it('a failing binlog-sync (wrong password) while binlogs rotate is CRIT at once, with its sentence', async () => {
    const failed = await cli(['binlog-sync', NAME, '--rotate'], 'not-the-password');
    expect(failed.code).not.toBe(0);
    const t0 = Date.now();
    await rotate();
    const prom = join(cfg.dir, 'hsync.prom');
    const { code, report } = await health(['--prom', prom]);
    expect(Date.now() - t0).toBeLessThan(GOAL_MS);
    expect(code).toBe(4);
    const a = archiving(report);
    expect(a.status).toBe('CRIT');
    expect(a.reason).toMatch(/^binlog-sync fails: its last run failed \d+s ago \(\d\d:\d\d:\d\dZ\): /);
    // The run's own sentence, as binlog-sync printed it.
    const sentence = failed.stderr.split('\n').find((l) => l.startsWith('dbdrill: '))!.slice('dbdrill: '.length).replace(/[.\s]+$/, '');
    expect(sentence).toMatch(/refused user/);
    expect(a.reason).toContain(`: ${sentence}. 1 closed binlog`);
    expect(a.reason).toMatch(/1 closed binlog not archived yet \(mysql-bin\.\d{6}\)/);
    expect(a.reason).toMatch(/[\d.]+ (B|KiB) of closed binlogs wait/);
    const fam = parsePromText(readFileSync(prom, 'utf8'));
    expect(fam.get('dbdrill_binlog_sync_last_run_ok')!.samples[0]!.value).toBe(0);
    expect(fam.get('dbdrill_archive_evidence')!.samples.find((x) => x.labels.kind === 'sync-failing')!.value).toBe(1);

    const repaired = await cli(['binlog-sync', NAME]);
    expect(repaired.code, repaired.stderr).toBe(0);
    const after = await health();
    expect(after.code, archiving(after.report).reason).toBe(0);
  }, 90_000);

  it('binlog-sync not running while binlogs rotate: CRIT once its run is overdue, within 60 s of when it was due', async () => {
    const last = await cli(['binlog-sync', NAME]);
    expect(last.code, last.stderr).toBe(0);
    const due = Date.now() + 10_000;
    await rotate();
    // Right after the rotation the binlog waits for the next run: not yet a fault.
    const early = await health();
    expect(archiving(early.report).status).toBe('OK');
    let report: HealthReport | undefined;
    while (Date.now() - due < GOAL_MS) {
      report = (await health()).report;
      if (archiving(report).status === 'CRIT') break;
      await new Promise((r) => setTimeout(r, 3000));
    }
    expect(archiving(report!).status, JSON.stringify(report!.checks)).toBe('CRIT');
    expect(Date.now() - due).toBeLessThan(GOAL_MS);
    expect(archiving(report!).reason).toMatch(/^binlog-sync has not run since \d+s ago \(\d\d:\d\d:\d\dZ\) though health\.binlogSyncEvery is 10s: it is not running\. 1 closed binlog not archived yet/);
    expect(report!.binlog!.evidence).toContainEqual(expect.objectContaining({ kind: 'sync-overdue', basis: 'configured', everySeconds: 10 }));

    const back = await cli(['binlog-sync', NAME]);
    expect(back.code, back.stderr).toBe(0);
    expect((await health()).code).toBe(0);
  }, 120_000);
});
