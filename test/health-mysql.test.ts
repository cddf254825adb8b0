import { copyFileSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetStore } from '../src/config/store.js';
import { openHealthSampler, type HealthReport } from '../src/ops/health.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { parsePromText } from './helpers/prom-parse.js';
import { sharedMariadb, withMysql } from './helpers/sandbox.js';

/**
 * Binlog archive health. The shared MariaDB is only read; rotating, purging and reconfiguring
 * binlogs happens on this file's own servers.
 */
const cfg = tempConfigDir();
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
const shared = sharedMariadb();
let own: SandboxInstance;
let nobin: SandboxInstance;

const cli = (args: string[]) => runCli(args, { env, timeoutMs: 60_000 });
const check = (r: HealthReport, name: string) => r.checks.find((c) => c.name === name)!;
const serverBinlogs = (info: SandboxInstance | typeof shared) =>
  withMysql(info, async (c) => ((await c.query('SHOW BINARY LOGS'))[0] as { Log_name: string }[]).map((r) => r.Log_name));

async function sampleOnce(name: string): Promise<HealthReport> {
  const s = openHealthSampler(cfg.dir, name);
  try {
    return await s.sample();
  } finally {
    await s.close();
  }
}

/** Copies a server's binlog into a repository's archive, with the given age. */
function archive(info: SandboxInstance | typeof shared, repo: string, name: string, ageSeconds = 0) {
  mkdirSync(join(repo, 'binlog'), { recursive: true });
  const to = join(repo, 'binlog', name);
  copyFileSync(join(info.binlogDir!, name), to);
  const t = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(to, t, t);
}

async function startMariadbRetrying(opts: { binlog: boolean }): Promise<SandboxInstance> {
  try {
    return await startMariadbSandbox(opts);
  } catch (e) {
    if (!/mariadb-install-db/.test((e as Error).message)) throw e;
    return startMariadbSandbox(opts);
  }
}

beforeAll(async () => {
  // One after the other, with one retry: mariadb-install-db runs that overlap (here or in another
  // test file) now and then collide on their temporary tables in /tmp ("Could not remove
  // temporary table '/tmp/#sql-temptable-…'"), a sandbox issue reported to the lead.
  own = await startMariadbRetrying({ binlog: true });
  nobin = await startMariadbRetrying({ binlog: false });
  process.env.HEALTH_MY_SHARED_PW = shared.password;
  process.env.HEALTH_MY_OWN_PW = own.password;
  process.env.HEALTH_MY_NOBIN_PW = nobin.password;
  const store = new TargetStore(cfg.dir);
  const add = (name: string, info: SandboxInstance | typeof shared, pw: string) =>
    store.add({ name, engine: 'mysql', host: info.host, port: info.port, user: info.user, dbname: info.dbname, repo: join(cfg.dir, `repo-${name}`), passwordEnv: pw });
  add('shared', shared, 'HEALTH_MY_SHARED_PW');
  add('shared-archived', shared, 'HEALTH_MY_SHARED_PW');
  add('own', own, 'HEALTH_MY_OWN_PW');
  add('nobin', nobin, 'HEALTH_MY_NOBIN_PW');
}, 120_000);

afterAll(async () => {
  await Promise.all([own?.stop(), nobin?.stop()]);
  cfg.cleanup();
});

describe('dbdrill health on MariaDB', () => {
  it('reads the shared server: ROW binlogs, the current file, no archive yet (WARN), no backup (CRIT, exit 4)', async () => {
    const c = await cli(['health', 'shared', '--json']);
    expect(c.code, c.stderr).toBe(4);
    const r = JSON.parse(c.stdout) as HealthReport;
    expect(check(r, 'server')).toMatchObject({ status: 'OK' });
    expect(check(r, 'server').reason).toMatch(/^MariaDB 10\.\d+\.\d+ at 127\.0\.0\.1:\d+ answers\.$/);
    expect(check(r, 'archiving')).toEqual({ name: 'archiving', status: 'WARN', reason: `No binlog archive yet in ${join(cfg.dir, 'repo-shared', 'binlog')}; changes since the last backup are only on the server.` });
    expect(check(r, 'binlog_format')).toEqual({ name: 'binlog_format', status: 'OK', reason: 'binlog_format=ROW.' });
    expect(check(r, 'backup')).toMatchObject({ status: 'CRIT' });
    const logs = await serverBinlogs(shared);
    expect(r.binlog).toMatchObject({ logBin: true, currentBinlog: logs.at(-1), serverBinlogs: logs.length, archivePresent: false });
    expect(r.server.systemId).toMatch(/:\d+\/server_id=1$/);
  });

  it('is OK when the archive holds the server\'s binlogs', async () => {
    const repo = join(cfg.dir, 'repo-shared-archived');
    for (const name of await serverBinlogs(shared)) archive(shared, repo, name);
    const r = await sampleOnce('shared-archived');
    expect(check(r, 'archiving').status, check(r, 'archiving').reason).toBe('OK');
    expect(r.binlog!.pending).toEqual([]);
    expect(r.metrics.archiveLastSuccessAgeSeconds).toBeLessThan(60);
  });

  it('grades closed binlogs left unarchived, and names a hole left by purged ones as CRIT', async () => {
    const repo = join(cfg.dir, 'repo-own');
    await withMysql(own, async (c) => {
      await c.query('FLUSH BINARY LOGS');
      await c.query('FLUSH BINARY LOGS');
    });
    const [b1, b2, b3] = await serverBinlogs(own);
    expect(b3).toBeDefined();
    archive(own, repo, b1!, 3600);
    let r = await sampleOnce('own');
    expect(r.binlog).toMatchObject({ currentBinlog: b3, newestArchived: b1, pending: [b2] });
    expect(check(r, 'archiving')).toEqual({
      name: 'archiving',
      status: 'CRIT',
      reason: `1 closed binlog not archived yet (${b2}); the newest archived, ${b1}, was written 1h ago.`,
    });
    expect(r.metrics.archiveBacklog).toBe(1);

    archive(own, repo, b2!);
    r = await sampleOnce('own');
    expect(check(r, 'archiving').status).toBe('OK');

    // The server drops binlogs the archive never got: b3 and b4 are gone for good. MariaDB keeps
    // a binlog until its crash-recovery checkpoint is written, so the purge is retried until done.
    await withMysql(own, async (c) => {
      await c.query('FLUSH BINARY LOGS');
      await c.query('FLUSH BINARY LOGS');
      for (let i = 0; i < 50; i++) {
        const logs = ((await c.query('SHOW BINARY LOGS'))[0] as { Log_name: string }[]).map((x) => x.Log_name);
        if (logs.length === 1) break;
        await c.query(`PURGE BINARY LOGS TO '${logs.at(-1)!}'`);
        await new Promise((res) => setTimeout(res, 100));
      }
    });
    expect(await serverBinlogs(own)).toEqual(['mysql-bin.000005']);
    r = await sampleOnce('own');
    expect(check(r, 'archiving').status, JSON.stringify(r.binlog)).toBe('CRIT');
    expect(check(r, 'archiving').reason).toMatch(/^Binlogs mysql-bin\.000003 to mysql-bin\.000004 were purged from the server before they were archived/);
  });

  it('warns when binlog_format is not ROW', async () => {
    await withMysql(own, (c) => c.query("SET GLOBAL binlog_format = 'MIXED'"));
    const r = await sampleOnce('own');
    expect(check(r, 'binlog_format')).toMatchObject({ status: 'WARN' });
    expect(check(r, 'binlog_format').reason).toMatch(/^binlog_format=MIXED: .* ROW is recommended/);
  });

  it('exports the recoverable window of a MySQL target once a backup and archived binlogs exist', async () => {
    await withMysql(own, async (c) => {
      await c.query('CREATE DATABASE winshop');
      await c.query('CREATE TABLE winshop.t (n int PRIMARY KEY)');
    }, { database: undefined });
    new TargetStore(cfg.dir).add({ name: 'own-win', engine: 'mysql', host: own.host, port: own.port, user: own.user, dbname: 'winshop', repo: join(cfg.dir, 'repo-own-win'), passwordEnv: 'HEALTH_MY_OWN_PW' });
    const before = JSON.parse((await cli(['health', 'own-win', '--json'])).stdout) as HealthReport;
    expect(before.window).toBeUndefined();
    expect(before.metrics.windowStart).toBeNull();

    const b = await cli(['backup', 'own-win', '--kind', 'logical', '--json']);
    expect(b.code, b.stderr).toBe(0);
    const backup = (JSON.parse(b.stdout) as { backup: { startedAt: string } }).backup;
    // Binlog events carry whole seconds: the archive reaches past the backup from the next one on.
    await new Promise((res) => setTimeout(res, 1100));
    await withMysql(own, (c) => c.query('INSERT INTO winshop.t VALUES (1)'), { database: undefined });
    const sync = await cli(['binlog-sync', 'own-win', '--rotate']);
    expect(sync.code, sync.stderr).toBe(0);

    const win = JSON.parse((await cli(['window', 'own-win', '--json'])).stdout) as { from: string; to: string };
    expect(win.from).toBe(backup.startedAt);
    expect(Date.parse(win.to)).toBeGreaterThan(Date.parse(win.from));
    const prom = join(cfg.dir, 'own-win.prom');
    const r = await cli(['health', 'own-win', '--json', '--prom', prom]);
    const report = JSON.parse(r.stdout) as HealthReport;
    expect(report.window, JSON.stringify(report.checks)).toEqual({ start: win.from, end: win.to });
    const fam = parsePromText(readFileSync(prom, 'utf8'));
    const v = (name: string) => fam.get(name)?.samples.find((x) => x.labels.target === 'own-win')?.value;
    expect(v('dbdrill_recoverable_window_start_timestamp_seconds')).toBe(Date.parse(win.from) / 1000);
    expect(v('dbdrill_recoverable_window_end_timestamp_seconds')).toBe(Date.parse(win.to) / 1000);
  });

  it('calls log_bin=OFF critical (exit 4)', async () => {
    const c = await cli(['health', 'nobin']);
    expect(c.code).toBe(4);
    expect(c.stdout).toMatch(/^CRIT archiving +log_bin is OFF: the server writes no binary logs/m);
  });
});
