import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetStore } from '../src/config/store.js';
import { openHealthSampler, type HealthReport, type HealthSampler } from '../src/ops/health.js';
import { startPostgresSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { CLI, runCli, tempConfigDir } from './helpers/cli.js';
import { parsePromText } from './helpers/prom-parse.js';
import { sharedPostgres, withPg } from './helpers/sandbox.js';

/**
 * Archiver health against real servers. This file breaks archiving on purpose, so it runs its own
 * PostgreSQL (never the shared one): archive_command is swapped with ALTER SYSTEM + reload.
 */
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
let sb: SandboxInstance;
let off: SandboxInstance;
let admin: pg.Client;
let sampler: HealthSampler;
/** Short thresholds so a stalled archive turns WARN after 1 s and CRIT after 3 s. */
const FAST = { archiveWarn: '1s', archiveCrit: '3s' };

const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });
const check = (r: HealthReport, name: string) => r.checks.find((c) => c.name === name);
const describeReport = (r: HealthReport | undefined) => (r ? `${r.status}: ${r.checks.map((c) => `${c.status} ${c.name}: ${c.reason}`).join(' / ')}` : 'no sample');

async function switchWal(): Promise<string> {
  await admin.query('INSERT INTO health_t VALUES (1)');
  const { rows } = await admin.query<{ w: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS w');
  return rows[0]!.w;
}

async function setArchiveCommand(command: string | null): Promise<void> {
  await admin.query(command === null ? 'ALTER SYSTEM RESET archive_command' : `ALTER SYSTEM SET archive_command = '${command.replace(/'/g, "''")}'`);
  await admin.query('SELECT pg_reload_conf()');
  // The archiver applies the new command when it processes the reload; give it that moment.
  await new Promise((r) => setTimeout(r, 300));
}

/**
 * Samples every 500 ms until `done` holds. With `nudge`, each round also opens a fresh connection:
 * after an archive_command exit > 125 the archiver process is gone, and the postmaster starts a
 * new one only when its loop wakes (a new connection does that; an idle one waits up to a minute).
 */
async function sampleUntil(done: (r: HealthReport) => boolean, timeoutMs: number, seen: HealthReport[] = [], nudge = false): Promise<HealthReport> {
  const deadline = Date.now() + timeoutMs;
  let last: HealthReport | undefined;
  while (Date.now() < deadline) {
    if (nudge) await withPg(sb, (c) => c.query('SELECT 1'), { database: 'postgres' });
    last = await sampler.sample();
    seen.push(last);
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`condition not reached in ${timeoutMs} ms; last sample ${describeReport(last)}`);
}

beforeAll(async () => {
  [sb, off] = await Promise.all([startPostgresSandbox({ archive: true }), startPostgresSandbox({})]);
  process.env.HEALTH_PG_PW = sb.password;
  process.env.HEALTH_OFF_PW = off.password;
  process.env.HEALTH_SHARED_PW = sharedPostgres().password;
  const store = new TargetStore(cfg.dir);
  const common = { engine: 'postgres', host: sb.host, port: sb.port, user: sb.user, dbname: 'postgres', passwordEnv: 'HEALTH_PG_PW' };
  store.add({ name: 'hpg', ...common, repo, health: FAST });
  store.add({ name: 'hpg-stale', ...common, repo, health: { ...FAST, backupWarn: '1s', backupCrit: '1h' } });
  store.add({ name: 'hoff', engine: 'postgres', host: off.host, port: off.port, user: off.user, dbname: 'postgres', repo: join(cfg.dir, 'repo-off'), passwordEnv: 'HEALTH_OFF_PW' });
  const shared = sharedPostgres();
  // Points the shared server at this file's repository: a repository of another server.
  store.add({ name: 'wrong-repo', engine: 'postgres', host: shared.host, port: shared.port, user: shared.user, dbname: 'postgres', repo, passwordEnv: 'HEALTH_SHARED_PW' });
  store.add({ name: 'nowhere', engine: 'postgres', host: '127.0.0.1', port: 1, user: 'x', dbname: 'postgres', repo: join(cfg.dir, 'repo-nowhere') });
  admin = new pg.Client({ host: sb.host, port: sb.port, user: sb.user, password: sb.password, database: 'postgres' });
  await admin.connect();
  await admin.query('CREATE TABLE health_t (x int)');
  sampler = openHealthSampler(cfg.dir, 'hpg', { catalogMaxAgeMs: 0 });
}, 120_000);

afterAll(async () => {
  await sampler?.close();
  await admin?.end().catch(() => undefined);
  await Promise.all([sb?.stop(), off?.stop()]);
  cfg.cleanup();
});

describe('dbdrill health on PostgreSQL', () => {
  it('is CRIT (exit 4) before any backup exists', async () => {
    const r = await cli(['health', 'hpg', '--json']);
    expect(r.code, r.stderr).toBe(4);
    const report = JSON.parse(r.stdout) as HealthReport;
    expect(check(report, 'backup')).toMatchObject({ status: 'CRIT' });
    expect(check(report, 'backup')!.reason).toContain('No complete backup in');
    expect(check(report, 'server')).toMatchObject({ status: 'OK' });
  });

  it('is OK (exit 0) with a fresh backup and the switched segment archived', async () => {
    const b = await cli(['backup', 'hpg', '--kind', 'logical']);
    expect(b.code, b.stderr).toBe(0);
    const segment = await switchWal();
    const r = await sampleUntil((x) => x.archive?.lastArchivedWal === segment && x.archive.backlog === 0, 20_000);
    expect(r.status, describeReport(r)).toBe('OK');
    expect(check(r, 'repository')!.reason).toMatch(/system id \d+ matches the server/);

    const c = await cli(['health', 'hpg']);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    const lines = c.stdout.trim().split('\n');
    expect(lines[0]).toBe('hpg: OK');
    expect(lines).toContainEqual(expect.stringMatching(/^OK {3}archiving +Nothing waits to be archived; last archived [0-9A-F]{24} \d+s ago\.$/));
    expect(lines).toContainEqual(expect.stringMatching(/^archive: current [0-9A-F]{24}, last archived /));
  });

  it('is WARN (exit 3) when the newest backup is older than the target\'s backupWarn', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const c = await cli(['health', 'hpg-stale', '--json']);
    expect(c.code, c.stdout).toBe(3);
    expect(check(JSON.parse(c.stdout) as HealthReport, 'backup')).toMatchObject({ status: 'WARN' });
  });

  it('turns CRIT at the first failed attempt when archive_command fails (exit 1), naming the failing segment', async () => {
    const before = (await sampler.sample()).archive!.failedCount;
    await setArchiveCommand('exit 1');
    const segment = await switchWal();
    const t0 = Date.now();
    const seen: HealthReport[] = [];
    const r = await sampleUntil((x) => x.status === 'CRIT', 20_000, seen);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(seen.length).toBeLessThanOrEqual(12);
    expect(r.archive).toMatchObject({ lastFailedWal: segment, failingNow: true, oldestReady: segment });
    expect(r.archive!.failedCount).toBeGreaterThan(before);
    expect(check(r, 'archiving')!.reason).toMatch(new RegExp(`^archive_command fails: ${segment} failed `));
    // A failed attempt is evidence, not a matter of age: the first sample that shows it is CRIT.
    expect(seen.filter((x) => x.archive!.failedCount > before).every((x) => x.status === 'CRIT')).toBe(true);

    const c = await cli(['health', 'hpg']);
    expect(c.code).toBe(4);
    expect(c.stdout).toContain(`CRIT archiving`);
    expect(c.stdout).toContain(`archive_command fails: ${segment}`);
  }, 60_000);

  it('is OK again once the good archive_command is back', async () => {
    await setArchiveCommand(null);
    const r = await sampleUntil((x) => x.status === 'OK', 30_000, [], true);
    expect(r.archive!.backlog).toBe(0);
  }, 60_000);

  it('stays CRIT when archive_command exits 200: failed_count does not move, the .ready backlog grows', async () => {
    const first = await sampler.sample();
    const failedBefore = first.archive!.failedCount;
    const archivedBefore = first.archive!.archivedCount;
    await setArchiveCommand('exit 200');
    const seg1 = await switchWal();
    const seen: HealthReport[] = [];
    await sampleUntil((x) => x.archive!.backlog >= 1, 10_000, seen);
    const seg2 = await switchWal();
    const r = await sampleUntil((x) => x.status === 'CRIT' && x.archive!.backlog >= 2, 20_000, seen);
    // pg_stat_archiver's blind spot, as documented: the archiver exits before counting anything.
    for (const x of seen) {
      expect(x.archive!.failedCount).toBe(failedBefore);
      expect(x.archive!.archivedCount).toBe(archivedBefore);
    }
    expect(r.archive).toMatchObject({ oldestReady: seg1, failingNow: false });
    expect(seg2 > seg1).toBe(true);
    const reason = check(r, 'archiving')!.reason;
    expect(reason).toMatch(new RegExp(`^Nothing archived for \\d+s while 2 files wait to be archived, the oldest \\(${seg1}\\) for \\d+s, yet pg_stat_archiver counts no failure`));
    expect(reason).toContain('archive_command probably exits above 125');
    expect(reason).toContain(`failed_count stayed at ${failedBefore}`);

    const c = await cli(['health', 'hpg', '--json']);
    expect(c.code).toBe(4);
    expect(check(JSON.parse(c.stdout) as HealthReport, 'archiving')!.reason).toContain('counts no failure');
  }, 60_000);

  it('recovers to OK after the good command returns, the backlog drained', async () => {
    await setArchiveCommand(null);
    const r = await sampleUntil((x) => x.status === 'OK', 60_000, [], true);
    expect(r.archive).toMatchObject({ backlog: 0 });
    const c = await cli(['health', 'hpg']);
    expect(c.code, c.stdout).toBe(0);
  }, 90_000);

  it('keeps a bounded history for the console\'s sparkline', async () => {
    const s = openHealthSampler(cfg.dir, 'hpg', { historySize: 3 });
    try {
      for (let i = 0; i < 5; i++) await s.sample();
      const r = await s.sample();
      expect(r.history).toHaveLength(3);
      expect(s.history()).toHaveLength(3);
      expect(r.history.at(-1)).toMatchObject({ at: r.at, status: r.status, backlog: 0 });
      expect(r.archive!.ratePerMinute).not.toBeNull();
    } finally {
      await s.close();
    }
  });

  it('--watch prints one line per sample until Ctrl-C; --prom rewrites a valid textfile each time', async () => {
    const prom = join(cfg.dir, 'textfile', 'dbdrill-hpg.prom');
    const child = spawn(process.execPath, [CLI, 'health', 'hpg', '--watch', '--interval', '0.3', '--prom', prom], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const deadline = Date.now() + 20_000;
    while (out.split('\n').length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await exited;
    expect(code, err).toBe(0);
    expect(err).toContain('SIGINT received');
    const lines = out.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ OK {3}archive: current [0-9A-F]{24}, last archived /);

    const text = readFileSync(prom, 'utf8');
    const fam = parsePromText(text);
    const v = (name: string) => fam.get(name)?.samples.find((x) => x.labels.target === 'hpg')?.value;
    expect(v('dbdrill_health_status')).toBe(0);
    expect(v('dbdrill_archive_backlog_segments')).toBe(0);
    // The failures the exit-1 test caused, as the server counts them (how many depends on how
    // soon health saw them, so the count is compared with the server's, not a fixed number).
    const failedNow = (await sampler.sample()).archive!.failedCount;
    expect(failedNow).toBeGreaterThanOrEqual(1);
    expect(v('dbdrill_archive_failed_total')).toBe(failedNow);
    expect(v('dbdrill_archive_last_success_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(v('dbdrill_backup_last_complete_age_seconds')).toBeGreaterThan(0);
    // Logical backups only: no base backup to roll forward, so no window (health-window.test.ts).
    expect(fam.has('dbdrill_recoverable_window_start_timestamp_seconds')).toBe(false);
    expect(statSync(prom).mode & 0o777).toBe(0o600);
  }, 40_000);

  it('--watch --json streams one JSON document per line', async () => {
    const child = spawn(process.execPath, [CLI, 'health', 'hpg', '--watch', '--interval', '0.3', '--json'], { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const deadline = Date.now() + 20_000;
    while (out.split('\n').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const docs = out.trim().split('\n').map((l) => JSON.parse(l) as HealthReport);
    expect(docs.length).toBeGreaterThanOrEqual(2);
    expect(docs[1]).toMatchObject({ target: 'hpg', status: 'OK' });
    expect(docs[1]!.archive!.window.samples).toBe(2);
    expect(docs[1]!.history).toBeUndefined();
  }, 40_000);

  it('calls archive_mode=off critical (exit 4)', async () => {
    const c = await cli(['health', 'hoff', '--json']);
    expect(c.code).toBe(4);
    const r = JSON.parse(c.stdout) as HealthReport;
    expect(check(r, 'archiving')).toMatchObject({ status: 'CRIT' });
    expect(check(r, 'archiving')!.reason).toMatch(/^archive_mode is off: no WAL is archived/);
    expect(r.metrics.archiveBacklog).toBe(0);
  });

  it('calls a repository holding another server\'s backups critical', async () => {
    const c = await cli(['health', 'wrong-repo', '--json']);
    expect(c.code).toBe(4);
    const r = JSON.parse(c.stdout) as HealthReport;
    expect(check(r, 'repository')).toMatchObject({ status: 'CRIT' });
    expect(check(r, 'repository')!.reason).toContain('holds backups of another server (system id ');
    expect(check(r, 'repository')!.reason).toContain(`this one is ${r.server.systemId}`);
  });

  it('reports an unreachable server as CRIT (exit 4), not as an error', async () => {
    const c = await cli(['health', 'nowhere']);
    expect(c.code).toBe(4);
    expect(c.stdout).toMatch(/^CRIT server +Nothing accepts connections at 127\.0\.0\.1:1 /m);
    expect(c.stdout).toContain('server: Nothing accepts connections');
  });

  it('counts temp files a killed wal-push left in the archive (WARN, and in --prom), not younger ones', async () => {
    const tl = join(cfg.dir, 'repo-nowhere', 'wal', '00000001');
    mkdirSync(tl, { recursive: true });
    const old = join(tl, '.000000010000000000000007.dbw.0badc0de.tmp');
    writeFileSync(old, Buffer.alloc(3000));
    const past = new Date(Date.now() - 20 * 60_000);
    utimesSync(old, past, past);
    // Young enough to belong to a push still running: not counted.
    writeFileSync(join(tl, '.000000010000000000000008.dbw.12345678.tmp'), 'x');
    const prom = join(cfg.dir, 'orphans.prom');
    try {
      const c = await cli(['health', 'nowhere', '--json', '--prom', prom]);
      const r = JSON.parse(c.stdout) as HealthReport;
      expect(check(r, 'archive temp files')).toMatchObject({ status: 'WARN' });
      expect(check(r, 'archive temp files')!.reason).toMatch(/^1 temp file \(2\.9 KiB\) left in the WAL archive by wal-push runs that were killed, the oldest 20 min ago; /);
      expect(r.metrics.archiveOrphanTempFiles).toBe(1);
      expect(parsePromText(readFileSync(prom, 'utf8')).get('dbdrill_archive_orphan_temp_files')?.samples[0]?.value).toBe(1);
    } finally {
      rmSync(join(cfg.dir, 'repo-nowhere', 'wal'), { recursive: true, force: true });
    }
  });

  it('answers bad usage with exit 2 and one sentence', async () => {
    const unknown = await cli(['health', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^dbdrill: There is no target named "nope"/);
    const interval = await cli(['health', 'hpg', '--interval', '5']);
    expect(interval.code).toBe(2);
    expect(interval.stderr).toContain('--interval only applies with --watch');
    const bad = await cli(['health', 'hpg', '--watch', '--interval', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('out of range');
  });
});
