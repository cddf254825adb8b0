import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetStore } from '../src/config/store.js';
import type { DrillReport } from '../src/drill/report.js';
import type { Manifest } from '../src/repo/manifest.js';
import { listProcesses } from '../src/runner/process.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { runCli, tempConfigDir, type CliResult } from './helpers/cli.js';
import { expectAbortedAndTornDown, interruptDrill, scratchProcesses } from './helpers/drill-interrupt.js';

// A MariaDB of this file's own (its binlogs are rotated and archived).
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
let server: SandboxInstance;
let env: Record<string, string>;
const runs: CliResult[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cli(args: string[]): Promise<CliResult> {
  const r = await runCli(args, { env, timeoutMs: 180_000 });
  runs.push(r);
  return r;
}

async function sql<T = mysql.RowDataPacket[]>(text: string): Promise<T> {
  const conn = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: server.user, password: server.password, database: 'shop', dateStrings: true });
  try {
    return (await conn.query(text))[0] as T;
  } finally {
    await conn.end();
  }
}

/** The drill's scratch server (named by its port in the provision step) is gone. */
function scratchAlive(report: DrillReport): string[] {
  const port = /on 127\.0\.0\.1:(\d+)/.exec(report.steps.find((s) => s.name === 'provision scratch instance')!.detail ?? '')![1]!;
  return listProcesses().filter((p) => p.name === 'mariadbd' && p.commandLine.includes(`--port=${port} `)).map((p) => `${p.pid} ${p.commandLine}`);
}

beforeAll(async () => {
  server = await startMariadbSandbox({ binlog: true, sampleData: true });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, MYDRILL_PW: server.password };
  new TargetStore(cfg.dir).add({
    name: 'mydrill', engine: 'mysql', host: '127.0.0.1', port: server.port, user: server.user, dbname: 'shop',
    repo, passwordEnv: 'MYDRILL_PW', rto: '1h', rpo: '1h',
    checks: [
      { name: 'orders are there', sql: 'SELECT count(*) FROM orders', expect: '>= 2000' },
      { name: 'latest order is recent enough', sql: 'SELECT max(created_at) FROM orders', expect: 'within 3650d of target' },
    ],
  });
  const b = await cli(['backup', 'mydrill', '--kind', 'logical']);
  expect(b.code, b.stderr).toBe(0);
});

afterAll(async () => {
  await server?.stop();
  cfg.cleanup();
});

describe('MySQL/MariaDB restore drills', () => {
  it('drills the backup\'s own moment when no binlog follows it: the tables match the backup', async () => {
    const r = await cli(['drill', 'mydrill', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.status).toBe('passed');
    expect(report.engine).toBe('mysql');
    expect(report.kind).toBe('logical');
    expect(report.steps.find((s) => s.name === 'replay binlogs')).toMatchObject({ status: 'skipped' });
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['accepts connections', true], ['tables match the backup', true], ['orders are there', true], ['latest order is recent enough', true], ['CHECK TABLE', true],
    ]);
    expect(report.checks.find((c) => c.name === 'tables match the backup')!.detail).toBe('3 table(s): row counts and digests as recorded');
    expect(report.rpo).toMatchObject({ reference: 'now minus the start of the logical backup', objectiveSeconds: 3600, ok: true });
    expect(scratchAlive(report)).toEqual([]);
  });

  let markedAt = '';
  it('passes with binlog replay: restores, replays, verifies, measures, tears down and keeps a report', async () => {
    await sql('CREATE TABLE drill_marks (n int PRIMARY KEY)');
    await sql('INSERT INTO drill_marks VALUES (1)');
    await sleep(1100);
    markedAt = (await sql<{ t: string }[]>("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ') AS t"))[0]!.t;
    await sleep(1100);
    await sql('INSERT INTO drill_marks VALUES (2)');
    const sync = await cli(['binlog-sync', 'mydrill', '--rotate']);
    expect(sync.code, sync.stderr).toBe(0);

    const r = await cli(['drill', 'mydrill', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.status).toBe('passed');
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ['pick backup', 'done'], ['verify backup files', 'done'], ['provision scratch instance', 'done'], ['restore base', 'done'],
      ['apply incrementals', 'skipped'], ['replay binlogs', 'done'], ['verify', 'done'], ['measure', 'done'], ['tear down', 'done'],
    ]);
    expect(report.steps.find((s) => s.name === 'replay binlogs')!.detail).toMatch(/^[1-9]\d* transaction\(s\) replayed, last change \d{4}-/);
    // Replayed binlogs change the tables, so the backup's counts are held against the tables as
    // the dump loaded them, before the replay.
    // The replay is held to the point its plan promised: here the end of the newest archived binlog.
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['accepts connections', true], ['replay reached the target', true], ['tables match the backup', true], ['orders are there', true], ['latest order is recent enough', true], ['CHECK TABLE', true],
    ]);
    const newest = readdirSync(join(repo, 'binlog')).filter((f) => /\.\d{6}$/.test(f)).sort().at(-1)!;
    expect(report.checks.find((c) => c.name === 'replay reached the target')!.detail).toMatch(
      new RegExp(`^${newest.replace('.', '\\.')}:${statSync(join(repo, 'binlog', newest)).size} \\(after transaction \\d+-\\d+-\\d+ of [0-9: -]+Z\\), as planned$`),
    );
    expect(report.checks.find((c) => c.name === 'tables match the backup')!.detail).toMatch(/^3 table\(s\): row counts and digests as recorded, as loaded from the dump before [1-9]\d* binlog transaction\(s\) were replayed$/);
    expect(report.steps.find((s) => s.name === 'verify')!.detail).toBe('6/6 check(s) passed');
    expect(report.notes).toBeUndefined();
    expect(report.rto!.seconds).toBeGreaterThan(0);
    expect(report.rto!.transferSeconds).toBeGreaterThan(0);
    expect(report.rto!.replaySeconds).toBeGreaterThan(0);
    expect(report.rto!.transferSeconds + report.rto!.replaySeconds).toBeLessThanOrEqual(report.rto!.seconds);
    expect(report.rto).toMatchObject({ objectiveSeconds: 3600, ok: true });
    expect(report.rpo).toMatchObject({ reference: 'now minus the newest archived binlog event', objectiveSeconds: 3600, ok: true });
    expect(r.stderr.indexOf('… replay binlogs')).toBeGreaterThan(r.stderr.indexOf('… restore base'));
    // The steps that move data say how much: the dump, then the archived binlogs from its position on.
    const m = JSON.parse(readFileSync(join(repo, 'backups', report.backup!, 'manifest.json'), 'utf8')) as Manifest;
    expect(report.steps.find((s) => s.name === 'restore base')!.bytes).toBe(m.sizeBytes);
    const binlogs = readdirSync(join(repo, 'binlog')).filter((f) => /\.\d{6}$/.test(f) && f >= m.mysql!.binlogFile!);
    expect(binlogs.length).toBeGreaterThan(0);
    const binlogBytes = binlogs.reduce((n, f) => n + statSync(join(repo, 'binlog', f)).size, 0) - m.mysql!.binlogPosition!;
    expect(binlogBytes).toBeGreaterThan(0);
    expect(report.steps.find((s) => s.name === 'replay binlogs')!.bytes).toBe(binlogBytes);
    expect(report.steps.filter((s) => s.bytes !== undefined).map((s) => s.name)).toEqual(['restore base', 'replay binlogs']);

    const stored = JSON.parse(readFileSync(join(repo, 'drills', `${report.id}.json`), 'utf8')) as DrillReport;
    expect(stored).toEqual(report);
    const md = await cli(['drill-report', 'mydrill', report.id]);
    expect(md.stdout).toContain(`# Restore drill ${report.id} — mydrill: PASSED`);
    expect(md.stdout).toContain('| replay binlogs | done |');
    const hist = await cli(['drills', 'mydrill']);
    expect(hist.stdout).toMatch(new RegExp(`${report.id}\\s+passed\\s+\\S+-L\\s+latest`));
    expect(scratchAlive(report)).toEqual([]);
  });

  it('drills to a marked time: replay stops there and the RPO is measured against it', async () => {
    const r = await cli(['drill', 'mydrill', '--to', markedAt, '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.requested).toBe(new Date(markedAt).toISOString());
    expect(report.steps.find((s) => s.name === 'pick backup')!.detail).toContain(`stopping before ${markedAt.slice(0, 19)}.000Z`);
    expect(report.rpo!.reference).toBe(`target ${new Date(markedAt).toISOString()} minus the last replayed change`);
    expect(Date.parse(report.rpo!.lastCommitAt!)).toBeLessThanOrEqual(Date.parse(markedAt));
    expect(report.rpo!.seconds).toBeLessThan(10);
  });

  it('fails at verify, naming the table, when the dump as loaded differs from the count the manifest records (before binlog replay)', async () => {
    const id = readdirSync(join(repo, 'backups')).find((d) => d.endsWith('-L'))!;
    const file = join(repo, 'backups', id, 'manifest.json');
    const original = readFileSync(file, 'utf8');
    const m = JSON.parse(original) as Manifest;
    const t = m.tables!.find((x) => x.table === 'orders')!;
    const rows = t.rows;
    t.rows = rows + 1;
    writeFileSync(file, JSON.stringify(m, null, 2));
    try {
      const r = await cli(['drill', 'mydrill', '--json']);
      expect(r.code, r.stderr).toBe(1);
      const report = JSON.parse(r.stdout) as DrillReport;
      expect(report.steps.find((s) => s.name === 'replay binlogs')!.status).toBe('done');
      expect(report.status).toBe('failed');
      expect(report.failedStep).toBe('verify');
      const detail = /^orders has (\d+) rows, expected (\d+), as loaded from the dump before [1-9]\d* binlog transaction\(s\) were replayed$/;
      const check = report.checks.find((c) => c.name === 'tables match the backup')!;
      expect(check.ok).toBe(false);
      expect(check.detail).toMatch(detail);
      expect(detail.exec(check.detail)!.slice(1, 3)).toEqual([String(rows), String(rows + 1)]);
      expect(report.error).toBe(`verification failed: tables match the backup: ${check.detail}`);
      expect(report.steps.find((s) => s.name === 'tear down')!.status).toBe('done');
      expect(scratchAlive(report)).toEqual([]);
      expect(existsSync(report.scratch!.dir)).toBe(false);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('Ctrl-C while loading the dump or replaying binlogs stops the tool, tears down and writes an aborted report', async () => {
    const r = await interruptDrill({ name: 'mydrill', repo, env, whileRunning: (s) => s === 'restore base' || s === 'replay binlogs' });
    const report = expectAbortedAndTornDown(r, repo);
    expect(report.engine).toBe('mysql');
    expect(scratchAlive(report)).toEqual([]);
  });

  it('fails at verify when a check of the target fails, naming it with what it expected and got, and tears down', async () => {
    const cfg2 = tempConfigDir();
    try {
      const target = new TargetStore(cfg.dir).get('mydrill');
      new TargetStore(cfg2.dir).add({ ...target, checks: [...target.checks!, { name: 'orders are fresh', sql: 'SELECT max(created_at) FROM orders', expect: 'within 1m of target' }] });
      const newest = (await sql<{ t: string }[]>("SELECT DATE_FORMAT(max(created_at), '%Y-%m-%dT%H:%i:%s.000Z') AS t FROM orders"))[0]!.t;
      const r = await runCli(['drill', 'mydrill', '--json'], { env: { ...env, DBDRILL_CONFIG_DIR: cfg2.dir }, timeoutMs: 180_000 });
      runs.push(r);
      expect(r.code, r.stderr).toBe(1);
      const report = JSON.parse(r.stdout) as DrillReport;
      expect(report.status).toBe('failed');
      expect(report.failedStep).toBe('verify');
      const failed = report.checks.find((c) => c.name === 'orders are fresh')!;
      expect(failed).toMatchObject({ ok: false, expected: expect.stringMatching(/^within 1m of target \d{4}-\d\d-\d\dT[\d:.]+Z$/) });
      expect(failed.actual).toMatch(new RegExp(`^${newest.replace(/\./g, '\\.')}, \\d+[dhm]`));
      expect(failed.detail).toBe(`expected ${failed.expected}, got ${failed.actual}`);
      expect(report.error).toBe(`verification failed: orders are fresh: ${failed.detail}`);
      expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['orders are fresh']);
      expect(report.rto).toBeUndefined();
      expect(report.steps.find((s) => s.name === 'tear down')!.status).toBe('done');
      expect(scratchProcesses(report.scratch!)).toEqual([]);
      expect(existsSync(report.scratch!.dir)).toBe(false);
      const md = await runCli(['drill-report', 'mydrill', report.id], { env: { ...env, DBDRILL_CONFIG_DIR: cfg2.dir } });
      expect(md.stdout).toContain(`- FAIL orders are fresh: ${failed.detail}`);
      expect(md.stdout).toContain(`- failed at **verify**: verification failed: orders are fresh: ${failed.detail}`);
    } finally {
      cfg2.cleanup();
    }
  });

  it('reports fail when the measured RTO misses an impossible objective', async () => {
    const r = await cli(['drill', 'mydrill', '--rto', '0s', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.status).toBe('failed');
    expect(report.rto).toMatchObject({ objectiveSeconds: 0, ok: false });
    expect(report.error).toMatch(/^RTO \d+\.\d s exceeds the objective 0s$/);
    expect(report.steps.find((s) => s.name === 'tear down')!.status).toBe('done');
    expect(scratchAlive(report)).toEqual([]);
  });

  it('fails at the file check of a corrupted dump, naming the file, and starts nothing', async () => {
    const id = readdirSync(join(repo, 'backups')).find((d) => d.endsWith('-L'))!;
    const file = join(repo, 'backups', id, 'dump.sql');
    const manifestFile = join(repo, 'backups', id, 'manifest.json');
    const original = readFileSync(file);
    const recorded = readFileSync(manifestFile);
    const bad = Buffer.from(original);
    bad[bad.length >> 1] = bad[bad.length >> 1]! ^ 0x55;
    writeFileSync(file, bad);
    try {
      const r = await cli(['drill', 'mydrill', '--json']);
      expect(r.code).toBe(1);
      const report = JSON.parse(r.stdout) as DrillReport;
      expect(report.failedStep).toBe('verify backup files');
      expect(report.error).toBe(`backup ${id} is damaged: dump.sql does not match its checksum`);
      expect(report.steps.find((s) => s.name === 'provision scratch instance')!.status).toBe('skipped');
      expect(report.steps.find((s) => s.name === 'tear down')).toMatchObject({ status: 'skipped', detail: 'nothing was started' });
      // What the drill found marks the backup corrupt, so no later plan starts from it.
      expect((JSON.parse(readFileSync(manifestFile, 'utf8')) as { status: string }).status).toBe('corrupt');
    } finally {
      // The later drills need the backup as it was: its bytes and its manifest (status complete).
      writeFileSync(file, original);
      writeFileSync(manifestFile, recorded);
    }
  });

  it('the password never appears in stdout, stderr or the drill reports', () => {
    for (const r of runs) {
      expect(r.stdout).not.toContain(server.password);
      expect(r.stderr).not.toContain(server.password);
    }
    for (const f of readdirSync(join(repo, 'drills'))) expect(readFileSync(join(repo, 'drills', f), 'utf8')).not.toContain(server.password);
  });
});
