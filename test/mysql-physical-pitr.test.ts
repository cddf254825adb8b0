import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/drill/report.js';
import type { RecoverableWindow } from '../src/pitr/window.js';
import type { Manifest } from '../src/repo/manifest.js';
import { isPidAlive, listProcesses, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { runCli, tempConfigDir, type CliResult } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';

// A MariaDB of this file's own: its binlogs are rotated and archived, and its physical backups
// copy the whole server.
const cfg = tempConfigDir();
const runDir = sandboxRunDir();
const repo = join(cfg.dir, 'repo');
let server: SandboxInstance;
let env: Record<string, string>;
const runs: CliResult[] = [];
const restored: { pid: number; dir: string }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cli(args: string[]): Promise<CliResult> {
  const r = await runCli(args, { env, timeoutMs: 180_000 });
  runs.push(r);
  return r;
}

async function sql<T = mysql.RowDataPacket[]>(text: string, opts: { port?: number; user?: string; password?: string; database?: string } = {}): Promise<T> {
  const conn = await mysql.createConnection({
    host: '127.0.0.1', port: opts.port ?? server.port, user: opts.user ?? server.user, password: opts.password ?? server.password,
    database: opts.database ?? 'shop', dateStrings: true,
  });
  try {
    return (await conn.query(text))[0] as T;
  } finally {
    await conn.end();
  }
}

/** Runs one statement on the source and returns the GTID the server gave its transaction. */
async function gtidOf(text: string): Promise<string> {
  const conn = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: server.user, password: server.password, database: 'shop' });
  try {
    await conn.query(text);
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT @@last_gtid AS g');
    return String(rows[0]!.g);
  } finally {
    await conn.end();
  }
}

async function serverNow(): Promise<string> {
  return (await sql<{ t: string }[]>("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ') AS t"))[0]!.t;
}

/** The restored server's account, from the option file the restore wrote for it. */
function optionFileLogin(file: string): { user: string; password: string } {
  const text = readFileSync(file, 'utf8');
  return { user: /^user=(.*)$/m.exec(text)![1]!, password: /^password="(.*)"$/m.exec(text)![1]!.replace(/\\(.)/g, '$1') };
}

interface MysqlRestoreJson {
  pid: number;
  port: number;
  reached: { lastCommitAt?: string };
  plan: { backup: string; settings: Record<string, string>; notes: string[] };
  mysql: {
    instanceDir: string; schema: string; optionFile: string; stopCommand: string; transactionsReplayed: number; lastGtid?: string; user: string; tables: { table: string; rows: number }[];
    reached?: { file: string; position: number; lastGtid?: string }; promised?: { file: string; position: number; lastGtid?: string };
  };
}

async function restore(args: string[]): Promise<{ r: CliResult; report: MysqlRestoreJson; login: { user: string; password: string } }> {
  const into = join(runDir, `myphys-${restored.length}-${process.pid}`);
  const port = await freePort();
  const r = await cli(['restore', 'myphys', ...args, '--into', into, '--port', String(port), '--json']);
  expect(r.code, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as MysqlRestoreJson;
  restored.push({ pid: report.pid, dir: into });
  expect(report.port).toBe(port);
  return { r, report, login: optionFileLogin(report.mysql.optionFile) };
}

async function stopRestored(report: MysqlRestoreJson): Promise<void> {
  const [tool, ...args] = report.mysql.stopCommand.split(' ');
  await promisify(execFile)(tool!, args);
  expect(await waitForPidExit(report.pid, 30_000)).toBe(true);
}

beforeAll(async () => {
  server = await startMariadbSandbox({ binlog: true, sampleData: true });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, MYPHYS_PW: server.password };
  const add = await cli(['target', 'add', 'myphys', '--engine', 'mysql', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', 'shop', '--repo', repo, '--password-env', 'MYPHYS_PW']);
  expect(add.code, add.stderr).toBe(0);
});

afterAll(async () => {
  for (const r of restored) {
    if (isPidAlive(r.pid)) {
      signalProcess(r.pid, 'SIGTERM');
      await waitForPidExit(r.pid, 30_000);
    }
    rmSync(r.dir, { recursive: true, force: true });
  }
  await server?.stop();
  cfg.cleanup();
});

describe('point-in-time restore of MariaDB from a physical backup', () => {
  let m: Manifest;
  let markedAt = '';
  const gtids = { mark2: '', side2: '', drop: '' };

  it('a mariadb-backup backup is a window base from the moment its files are consistent', async () => {
    const b = await cli(['backup', 'myphys', '--kind', 'physical', '--json']);
    expect(b.code, b.stderr).toBe(0);
    m = (JSON.parse(b.stdout) as { backup: Manifest }).backup;
    expect(m.kind).toBe('physical');
    expect(m.mysql?.binlogFile).toMatch(/^mysql-bin\.\d{6}$/);
    expect(Date.parse(m.mysql!.consistentAt!)).toBeGreaterThanOrEqual(Date.parse(m.startedAt));
    expect(Date.parse(m.mysql!.consistentAt!)).toBeLessThanOrEqual(Date.parse(m.finishedAt!));

    // After the backup: a second schema (a physical restore replays every schema), the mark,
    // then writes that must not come back.
    await sql('CREATE DATABASE side');
    await sql('CREATE TABLE side.notes (n int PRIMARY KEY)');
    await sql('INSERT INTO side.notes VALUES (1)');
    await sql('CREATE TABLE marks (n int PRIMARY KEY, note varchar(40))');
    await sql("INSERT INTO marks VALUES (1, 'before the mark')");
    await sleep(1100);
    markedAt = await serverNow();
    await sleep(1100);
    gtids.mark2 = await gtidOf("INSERT INTO marks VALUES (2, 'after the mark')");
    gtids.side2 = await gtidOf('INSERT INTO side.notes VALUES (2)');
    gtids.drop = await gtidOf('DROP TABLE order_items');
    expect(new Set(Object.values(gtids)).size).toBe(3);
    const sync = await cli(['binlog-sync', 'myphys', '--rotate']);
    expect(sync.code, sync.stderr).toBe(0);

    const w = await cli(['window', 'myphys', '--json']);
    expect(w.code, w.stderr).toBe(0);
    const win = JSON.parse(w.stdout) as RecoverableWindow;
    expect(win.ranges.map((r) => r.backup)).toEqual([m.id]);
    expect(win.from).toBe(new Date(m.mysql!.consistentAt!).toISOString());
    expect(Date.parse(win.from!)).toBeLessThan(Date.parse(markedAt));
    expect(Date.parse(win.to!)).toBeGreaterThan(Date.parse(markedAt));
  });

  it('restores to the marked time: the dropped table is back, every schema is replayed, later writes are not', async () => {
    const { r, report, login } = await restore(['--to', markedAt]);
    expect(report.plan.backup).toBe(m.id);
    expect(report.plan.settings).toMatchObject({ 'start-position': `${m.mysql!.binlogFile}:${m.mysql!.binlogPosition}`, databases: 'all (physical backup)' });
    expect(report.plan.settings['stop-datetime']).toBe(`${markedAt.slice(0, 19).replace('T', ' ')} UTC`);
    expect(Date.parse(report.reached.lastCommitAt!)).toBeLessThanOrEqual(Date.parse(markedAt));
    expect(report.mysql.transactionsReplayed).toBeGreaterThanOrEqual(5);
    expect(report.mysql.tables.map((t) => `${t.table} ${t.rows}`).sort()).toEqual(['customers 500', 'marks 1', 'order_items 4000', 'orders 2000']);
    expect(report.mysql.lastGtid).not.toBe(gtids.mark2);
    expect(r.stderr).toContain('OK copy backup');
    expect(r.stderr).toContain('OK replay binlogs');

    const at = { port: report.port, ...login };
    expect((await sql<{ n: number }[]>('SELECT n FROM marks ORDER BY n', at)).map((x) => x.n)).toEqual([1]);
    expect(Number((await sql<{ n: number }[]>('SELECT count(*) AS n FROM order_items', at))[0]!.n)).toBe(4000);
    expect((await sql<{ n: number }[]>('SELECT n FROM side.notes ORDER BY n', at)).map((x) => x.n)).toEqual([1]);
    // The source's own accounts came along with the files; the restored server is no replica.
    expect((await sql<{ n: number }[]>('SELECT 1 AS n', { port: report.port })).length).toBe(1);
    expect(Number((await sql<{ v: number }[]>('SELECT @@log_bin AS v', at))[0]!.v)).toBe(0);
    // Its files are dbdrill's: 0700 directories, 0600 files.
    const dataDir = join(report.mysql.instanceDir, 'data');
    expect(statSync(join(dataDir, 'shop')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'ibdata1')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(report.mysql.instanceDir, 'init.sql'))).toBe(false);

    // The source still has its later writes and no order_items.
    expect((await sql<{ n: number }[]>('SELECT n FROM marks ORDER BY n')).map((x) => x.n)).toEqual([1, 2]);
    await expect(sql('SELECT 1 FROM order_items LIMIT 1')).rejects.toThrow(/doesn't exist/);
    await stopRestored(report);
  });

  it('restore --backup ID alone gives the backup as it was taken', async () => {
    const { report, login } = await restore(['--backup', m.id]);
    expect(report.plan.notes[0]).toContain(`restores backup ${m.id} as it was taken`);
    expect(report.mysql.transactionsReplayed).toBe(0);
    const at = { port: report.port, ...login };
    await expect(sql('SELECT 1 FROM marks', at)).rejects.toThrow(/doesn't exist/);
    expect(Number((await sql<{ n: number }[]>('SELECT count(*) AS n FROM order_items', at))[0]!.n)).toBe(4000);
    await stopRestored(report);
  });

  it('refuses a time before the backup was consistent, in one sentence with the window', async () => {
    const into = join(runDir, `myphys-early-${process.pid}`);
    const r = await cli(['restore', 'myphys', '--to', m.startedAt, '--into', into, '--port', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\ndbdrill: .* is before the earliest restorable point \(.*, when the first backup was consistent\); the recoverable window is .* → .*\.\n$/);
    expect(existsSync(into)).toBe(false);
  });

  it('verify --restore starts the backup, counts and checks every table, and says nothing was compared', async () => {
    const r = await cli(['verify', 'myphys', '--backup', m.id, '--restore', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { method: string; ok: boolean; detail: string }[] };
    expect(report.checks.map((c) => [c.method, c.ok])).toEqual([['sha256', true], ['mariadb-backup files', true], ['restore', true], ['CHECK TABLE', true]]);
    expect(report.checks[2]!.detail).toMatch(/^started MariaDB 10\.\d+\.\d+ on the restored files \(binlog mysql-bin\.\d+:\d+\); counted 3 table\(s\) in 1 schema\(s\), 6500 rows; the backup recorded no table counts to compare with$/);
    expect(report.checks[3]!.detail).toBe('3 table(s) OK in 1 schema(s)');
    const text = await cli(['verify', 'myphys', '--backup', m.id]);
    expect(text.code).toBe(0);
    const stored = JSON.parse(readFileSync(join(repo, 'backups', m.id, 'manifest.json'), 'utf8')) as Manifest;
    expect(stored.verification?.filter((v) => v.method === 'restore').map((v) => v.ok)).toEqual([true]);
  });

  it('drills the physical backup to the marked time and tears the scratch server down', async () => {
    const r = await cli(['drill', 'myphys', '--to', markedAt, '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.status).toBe('passed');
    expect(report.kind).toBe('physical');
    expect(report.backup).toBe(m.id);
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ['pick backup', 'done'], ['verify backup files', 'done'], ['provision scratch instance', 'done'], ['restore base', 'done'],
      ['apply incrementals', 'skipped'], ['replay binlogs', 'done'], ['verify', 'done'], ['measure', 'done'], ['tear down', 'done'],
    ]);
    expect(report.steps.find((s) => s.name === 'restore base')!.detail).toBe(`copied ${m.sizeBytes} bytes of data files`);
    expect(report.steps.find((s) => s.name === 'apply incrementals')!.detail).toBe(`backup ${m.id} is a full backup: nothing to apply`);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([['accepts connections', true], ['replay reached the target', true], ['CHECK TABLE', true]]);
    expect(report.checks[1]!.detail).toMatch(/^mysql-bin\.\d{6}:\d+ \(after transaction \d+-\d+-\d+ of [0-9: -]+Z\), as planned$/);
    expect(report.rto!.transferSeconds).toBeGreaterThan(0);
    expect(report.rto!.replaySeconds).toBeGreaterThan(0);
    expect(report.rpo!.reference).toBe(`target ${new Date(markedAt).toISOString()} minus the last replayed change`);
    const port = /on 127\.0\.0\.1:(\d+)/.exec(report.steps.find((s) => s.name === 'provision scratch instance')!.detail!)![1]!;
    expect(listProcesses().filter((p) => p.name === 'mariadbd' && p.commandLine.includes(`--port=${port} `))).toEqual([]);
  });

  it('restores up to and including a GTID: later transactions are left out', async () => {
    const { r, report, login } = await restore(['--gtid', gtids.mark2]);
    expect(report.plan.backup).toBe(m.id);
    expect(report.plan.settings['stop-after-gtid']).toBe(gtids.mark2);
    expect(report.plan.settings['stop-position']).toMatch(/^mysql-bin\.\d{6}:\d+$/);
    expect(report.plan.notes[0]).toMatch(new RegExp(`^stops after transaction ${gtids.mark2}, which ends at mysql-bin\\.\\d{6}:\\d+ \\(logged `));
    expect(report.mysql.lastGtid).toBe(gtids.mark2);
    expect(r.stdout).not.toContain('stop-datetime');
    const at = { port: report.port, ...login };
    expect((await sql<{ n: number }[]>('SELECT n FROM marks ORDER BY n', at)).map((x) => x.n)).toEqual([1, 2]);
    expect((await sql<{ n: number }[]>('SELECT n FROM side.notes ORDER BY n', at)).map((x) => x.n)).toEqual([1]);
    expect(Number((await sql<{ n: number }[]>('SELECT count(*) AS n FROM order_items', at))[0]!.n)).toBe(4000);
    await stopRestored(report);
  });

  it('restores to a binlog position: everything before the DROP, and the table survives', async () => {
    const events = async (file: string) => sql<{ Log_name: string; Pos: number; End_log_pos: number; Event_type: string; Info: string }[]>(`SHOW BINLOG EVENTS IN '${file}'`);
    const logs = (await sql<{ Log_name: string }[]>('SHOW BINARY LOGS')).map((x) => x.Log_name);
    let drop: { file: string; gtidAt: number; queryAt: number; end: number } | undefined;
    for (const file of logs) {
      const ev = await events(file);
      const i = ev.findIndex((e) => e.Event_type === 'Gtid' && e.Info.startsWith(`GTID ${gtids.drop}`));
      if (i >= 0) drop = { file, gtidAt: Number(ev[i]!.Pos), queryAt: Number(ev[i + 1]!.Pos), end: Number(ev[i + 1]!.End_log_pos) };
    }
    expect(drop, 'the DROP TABLE is in a binlog').toBeDefined();
    const { report, login } = await restore(['--position', `${drop!.file}:${drop!.gtidAt}`]);
    expect(report.plan.settings['stop-position']).toBe(`${drop!.file}:${drop!.gtidAt}`);
    expect(report.mysql.lastGtid).toBe(gtids.side2);
    const at = { port: report.port, ...login };
    expect((await sql<{ n: number }[]>('SELECT n FROM marks ORDER BY n', at)).map((x) => x.n)).toEqual([1, 2]);
    expect((await sql<{ n: number }[]>('SELECT n FROM side.notes ORDER BY n', at)).map((x) => x.n)).toEqual([1, 2]);
    expect(Number((await sql<{ n: number }[]>('SELECT count(*) AS n FROM order_items', at))[0]!.n)).toBe(4000);
    await stopRestored(report);

    // Inside the DROP's transaction (its statement, after its GTID event): refused, both ends named.
    const into = join(runDir, `myphys-refused-${process.pid}`);
    const inside = await cli(['restore', 'myphys', '--position', `${drop!.file}:${drop!.queryAt}`, '--into', into, '--port', '1']);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toContain(
      `dbdrill: ${drop!.file}:${drop!.queryAt} is inside transaction ${gtids.drop} (${drop!.file}:${drop!.gtidAt}…${drop!.end}); give --position ${drop!.file}:${drop!.gtidAt} to stop before it or ${drop!.file}:${drop!.end} to include it.\n`,
    );
    expect(existsSync(into)).toBe(false);
  });

  it('refuses a GTID or a position outside the archive in one sentence with the window', async () => {
    const into = join(runDir, `myphys-refused-${process.pid}`);
    const domain = gtids.drop.split('-').slice(0, 2).join('-');
    const future = await cli(['restore', 'myphys', '--gtid', `${domain}-999999`, '--into', into, '--port', '1']);
    expect(future.code).toBe(2);
    expect(future.stderr).toMatch(new RegExp(`\ndbdrill: GTID ${domain}-999999 is not in the binlog archive \\(the archived binlogs from mysql-bin\\.\\d{6} hold GTIDs ${domain}-\\d+ … ${domain}-\\d+\\); the recoverable window is .* → .*\\.\n$`));
    const old = await cli(['restore', 'myphys', '--gtid', `${domain}-1`, '--into', into, '--port', '1']);
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(new RegExp(`dbdrill: GTID ${domain}-1 is already in every backup \\(the earliest, ${m.id}, holds up to ${domain}-\\d+\\), so no replay can stop after it; the recoverable window is .* → .*\\.\n$`));
    const missing = await cli(['restore', 'myphys', '--position', 'mysql-bin.000999:4', '--into', into, '--port', '1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/dbdrill: mysql-bin\.000999 is not in the binlog archive \(it holds mysql-bin\.000001 … mysql-bin\.\d{6}\); the recoverable window is .* → .*\.\n$/);
    const mysqlGtid = await cli(['restore', 'myphys', '--gtid', '3E11FA47-71CA-11E1-9E33-C80AA9429562:23', '--into', into, '--port', '1']);
    expect(mysqlGtid.code).toBe(2);
    expect(mysqlGtid.stderr).toContain('is a MySQL GTID');
    expect(existsSync(into)).toBe(false);
  });

  it('--to latest replays every schema to the end of the archive and proves it; a flipped byte in an archived binlog fails it, naming the file', async () => {
    const newest = readdirSync(join(repo, 'binlog')).filter((f) => /^mysql-bin\.\d{6}$/.test(f)).sort().at(-1)!;
    const path = join(repo, 'binlog', newest);
    const { report, login } = await restore(['--to', 'latest']);
    expect(report.mysql.promised).toEqual({ file: newest, position: statSync(path).size, lastGtid: gtids.drop, lastAt: expect.stringMatching(/Z$/) });
    expect(report.mysql.reached).toEqual(report.mysql.promised);
    await expect(sql('SELECT 1 FROM order_items LIMIT 1', { port: report.port, ...login })).rejects.toThrow(/doesn't exist/);
    await stopRestored(report);

    const original = readFileSync(path);
    const bad = Buffer.from(original);
    bad[bad.length >> 1] = bad[bad.length >> 1]! ^ 0x10;
    writeFileSync(path, bad);
    try {
      const into = join(runDir, `myphys-damaged-${process.pid}`);
      const r = await cli(['restore', 'myphys', '--to', 'latest', '--into', into, '--port', String(await freePort())]);
      expect(r.code).toBe(1);
      // The backup's position lies in that very file: replay could not even start.
      expect(newest).toBe(m.mysql!.binlogFile);
      expect(r.stderr).toMatch(new RegExp(`\ndbdrill: --to latest cannot be reached: the archived ${newest.replace('.', '\\.')} is damaged \\(its sha256 [0-9a-f]{64} differs from the one recorded when it was archived, [0-9a-f]{64}\\), so replay would stop at the backup's own position ${newest.replace('.', '\\.')}:${m.mysql!.binlogPosition}, short of the newest archived binlog ${newest.replace('.', '\\.')} \\(its last event at [0-9: -]+Z\\); put intact copies back into `));
      expect(existsSync(into)).toBe(false);
    } finally {
      writeFileSync(path, original);
    }
  });

  it('the password never appears in stdout or stderr', () => {
    expect(runs.length).toBeGreaterThan(5);
    for (const r of runs) {
      expect(r.stdout).not.toContain(server.password);
      expect(r.stderr).not.toContain(server.password);
    }
  });
});
