import { existsSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/drill/report.js';
import type { Manifest } from '../src/repo/manifest.js';
import { isPidAlive, listProcesses, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { runCli, tempConfigDir, type CliResult } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';
import { createConsoleApi } from '../src/cli/console-api.js';

// Every MariaDB restore proves the point it reached: the replay must end where the plan said it
// would (the end of the archive for latest, the last transaction before the target otherwise),
// and a damaged archive is never taken for its end. A MariaDB of this file's own: its binlogs are
// rotated, archived and then damaged on purpose.
const cfg = tempConfigDir();
const runDir = sandboxRunDir();
const repo = join(cfg.dir, 'repo');
const binlogDir = join(repo, 'binlog');
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

async function sql<T = mysql.RowDataPacket[]>(text: string, opts: { port?: number; password?: string } = {}): Promise<T> {
  const conn = await mysql.createConnection({
    host: '127.0.0.1', port: opts.port ?? server.port, user: server.user, password: opts.password ?? server.password, database: 'shop', dateStrings: true,
  });
  try {
    return (await conn.query(text))[0] as T;
  } finally {
    await conn.end();
  }
}

interface Point { file: string; position: number; lastGtid?: string; lastAt?: string }
interface RestoreJson {
  pid: number;
  port: number;
  plan: { settings: Record<string, string>; notes: string[]; ambiguousSecond?: Ambiguous };
  mysql: { optionFile: string; stopCommand: string; lastGtid?: string; reached: Point; promised: Point };
}
interface Ambiguous { second: string; transactions: { gtid: string; at: string; statement: string }[] }

function optionFilePassword(file: string): string {
  return /^password="(.*)"$/m.exec(readFileSync(file, 'utf8'))![1]!.replace(/\\(.)/g, '$1');
}

/** A restore that must succeed; its server is stopped at the end of the file. */
async function restoreOk(args: string[]): Promise<{ report: RestoreJson; marks: number[] }> {
  const into = join(runDir, `myproof-${restored.length}-${process.pid}`);
  const port = await freePort();
  const r = await cli(['restore', 'myproof', ...args, '--into', into, '--port', String(port), '--json']);
  expect(r.code, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as RestoreJson;
  restored.push({ pid: report.pid, dir: into });
  const password = optionFilePassword(report.mysql.optionFile);
  const marks = (await sql<{ n: number }[]>('SELECT n FROM marks ORDER BY n', { port, password })).map((x) => x.n);
  signalProcess(report.pid, 'SIGTERM');
  await waitForPidExit(report.pid, 30_000);
  return { report, marks };
}

/** A restore that must fail or be refused: returns what it said and checks nothing runs there. */
async function restoreFails(args: string[]): Promise<{ r: CliResult; into: string; port: number }> {
  const into = join(runDir, `myproof-fail-${restored.length}-${process.pid}`);
  const port = await freePort();
  const r = await cli(['restore', 'myproof', ...args, '--into', into, '--port', String(port), '--json']);
  // A restore that wrongly succeeds leaves its server running: stopped with the others at the end.
  restored.push({ pid: r.code === 0 ? (JSON.parse(r.stdout) as RestoreJson).pid : -1, dir: into });
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(listProcesses().filter((p) => p.name === 'mariadbd' && p.commandLine.includes(`--port=${port} `))).toEqual([]);
  return { r, into, port };
}

async function gtidOf(conn: mysql.Connection, text: string): Promise<string> {
  await conn.query(text);
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT @@last_gtid AS g');
  return String(rows[0]!.g);
}

const NOW6 = "SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ') AS t";

/** Damages an archived file for the length of `fn`, then puts its bytes back. */
async function damaged(file: string, damage: (buf: Buffer) => Buffer | undefined, fn: () => Promise<void>): Promise<void> {
  const path = join(binlogDir, file);
  const original = readFileSync(path);
  const bad = damage(Buffer.from(original));
  try {
    if (bad === undefined) unlinkSync(path);
    else writeFileSync(path, bad);
    await fn();
  } finally {
    if (existsSync(path)) truncateSync(path, 0);
    writeFileSync(path, original);
  }
}

const files: { a: string; b: string; c: string; d: string } = { a: '', b: '', c: '', d: '' };
const gtids: Record<string, string> = {};
/** The busy second: two transactions in it, and a target between them with a fraction. */
let busy = { second: '', target: '' };
/** Rows written before the busy second (attempts that missed one second included). */
const before: number[] = [];

beforeAll(async () => {
  server = await startMariadbSandbox({ binlog: true, sampleData: true });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, MYPROOF_PW: server.password };
  const add = await cli(['target', 'add', 'myproof', '--engine', 'mysql', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', 'shop', '--repo', repo, '--password-env', 'MYPROOF_PW']);
  expect(add.code, add.stderr).toBe(0);
  const b = await cli(['backup', 'myproof', '--kind', 'logical']);
  expect(b.code, b.stderr).toBe(0);

  const conn = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: server.user, password: server.password, database: 'shop', dateStrings: true });
  try {
    const current = async () => String(((await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS'))[0])[0]!.File);
    await conn.query('CREATE TABLE marks (n int PRIMARY KEY, note varchar(60))');
    await conn.query("INSERT INTO marks VALUES (1, 'plain one')");
    await conn.query("INSERT INTO marks VALUES (2, 'plain two')");
    before.push(1, 2);
    files.a = await current();
    await conn.query('FLUSH BINARY LOGS');
    gtids.flip = await gtidOf(conn, "INSERT INTO marks VALUES (3, 'flip-me-0123456789')");
    before.push(3);
    files.b = await current();
    await conn.query('FLUSH BINARY LOGS');
    files.c = await current();
    // Two commits in one second with the target between them: start early in a second, and try
    // again (with new rows) when the second turned over in between.
    let n = 100;
    for (let attempt = 0; attempt < 10 && !busy.target; attempt++) {
      const frac = Number(/\.(\d+)Z$/.exec(String(((await conn.query<mysql.RowDataPacket[]>(NOW6))[0])[0]!.t))![1]!) / 1e6;
      await sleep(Math.max(0, 1.05 - frac) * 1000);
      const t0 = String(((await conn.query<mysql.RowDataPacket[]>(NOW6))[0])[0]!.t);
      const a = n++;
      const ga = await gtidOf(conn, `INSERT INTO marks VALUES (${a}, 'busy a')`);
      const mid = String(((await conn.query<mysql.RowDataPacket[]>(NOW6))[0])[0]!.t);
      const bN = n++;
      const gb = await gtidOf(conn, `INSERT INTO marks VALUES (${bN}, 'busy b')`);
      const t1 = String(((await conn.query<mysql.RowDataPacket[]>(NOW6))[0])[0]!.t);
      if (t0.slice(0, 19) === t1.slice(0, 19) && !mid.endsWith('.000000Z')) {
        busy = { second: `${t0.slice(0, 19)}Z`, target: mid };
        gtids.busyA = ga;
        gtids.busyB = gb;
        gtids.busyRows = `${a},${bN}`;
      } else {
        before.push(a, bN);
      }
    }
    expect(busy.target, 'two commits landed in one second').not.toBe('');
    await sleep(1100);
    gtids.after = await gtidOf(conn, "INSERT INTO marks VALUES (6, 'after the second')");
    await conn.query('FLUSH BINARY LOGS');
    files.d = await current();
    gtids.last = await gtidOf(conn, "INSERT INTO marks VALUES (7, 'the last one')");
    await conn.query('FLUSH BINARY LOGS');
  } finally {
    await conn.end();
  }
  const sync = await cli(['binlog-sync', 'myproof']);
  expect(sync.code, sync.stderr).toBe(0);
  for (const f of Object.values(files)) expect(existsSync(join(binlogDir, f)), f).toBe(true);
});

afterAll(async () => {
  for (const r of restored) {
    if (r.pid > 0 && isPidAlive(r.pid)) {
      signalProcess(r.pid, 'SIGTERM');
      await waitForPidExit(r.pid, 30_000);
    }
    rmSync(r.dir, { recursive: true, force: true });
  }
  await server?.stop();
  cfg.cleanup();
});

const busyRows = () => gtids.busyRows!.split(',').map(Number);

describe('a MariaDB restore proves the point it reached', () => {
  it('--to latest replays every archived binlog to its end and reports the point reached, which is the one promised', async () => {
    const { report, marks } = await restoreOk(['--to', 'latest']);
    expect(marks).toEqual([...before, ...busyRows(), 6, 7].sort((x, y) => x - y));
    const end = statSync(join(binlogDir, files.d)).size;
    expect(report.mysql.promised).toMatchObject({ file: files.d, position: end, lastGtid: gtids.last });
    expect(report.mysql.reached).toEqual(report.mysql.promised);
    expect(report.mysql.lastGtid).toBe(gtids.last);
  });

  it('refuses a fractional time inside a second that holds transactions, listing them (text and JSON)', async () => {
    const { r, into } = await restoreFails(['--to', busy.target]);
    expect(r.code).toBe(2);
    const [ga, gb] = [gtids.busyA!, gtids.busyB!];
    const [a, b] = busyRows();
    expect(r.stderr).toContain(`dbdrill: ${busy.target.replace('T', ' ')} falls inside ${busy.second.replace('T', ' ')}, a second that holds 2 transaction(s) in the binlog`);
    expect(r.stderr).toContain(`${ga} at ${busy.second.slice(11, 19)} (INSERT INTO marks VALUES (${a}, 'busy a'))`);
    expect(r.stderr).toContain(`${gb} at ${busy.second.slice(11, 19)} (INSERT INTO marks VALUES (${b}, 'busy b'))`);
    expect(r.stderr).toMatch(/give --gtid or --position to stop after one of them, or --second inclusive \(replay all of them\) or --second exclusive \(none of them\)\.\n$/);
    expect(existsSync(into)).toBe(false);

    const json = await cli(['restore', 'myproof', '--to', busy.target, '--into', into, '--port', '1', '--json']);
    expect(json.code).toBe(2);
    const err = (JSON.parse(json.stdout) as { ok: boolean; error: { code: string; ambiguousSecond: Ambiguous } }).error;
    expect(err.code).toBe('invalid-input');
    expect(err.ambiguousSecond).toEqual({
      second: new Date(busy.second).toISOString(),
      transactions: [
        { gtid: ga, at: new Date(busy.second).toISOString(), statement: `INSERT INTO marks VALUES (${a}, 'busy a')` },
        { gtid: gb, at: new Date(busy.second).toISOString(), statement: `INSERT INTO marks VALUES (${b}, 'busy b')` },
      ],
    });
  });

  it('--second inclusive replays every transaction of that second, --second exclusive none of them', async () => {
    const dry = await cli(['restore', 'myproof', '--to', busy.target, '--second', 'inclusive', '--into', join(runDir, `myproof-dry-${process.pid}`), '--port', String(await freePort()), '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = (JSON.parse(dry.stdout) as RestoreJson).plan;
    expect(plan.ambiguousSecond?.transactions.map((t) => t.gtid)).toEqual([gtids.busyA, gtids.busyB]);
    const next = new Date(Date.parse(busy.second) + 1000).toISOString();
    expect(plan.settings['stop-datetime']).toBe(`${next.slice(0, 19).replace('T', ' ')} UTC`);

    const inc = await restoreOk(['--to', busy.target, '--second', 'inclusive']);
    expect(inc.marks).toEqual([...before, ...busyRows()].sort((x, y) => x - y));
    expect(inc.report.mysql.reached.lastGtid).toBe(gtids.busyB);
    expect(inc.report.mysql.promised.lastGtid).toBe(gtids.busyB);

    const exc = await restoreOk(['--to', busy.target, '--second', 'exclusive']);
    expect(exc.marks).toEqual([...before].sort((x, y) => x - y));
    expect(exc.report.mysql.reached.lastGtid).toBe(exc.report.mysql.promised.lastGtid);
    expect(exc.report.mysql.reached.lastGtid).not.toBe(gtids.busyA);
  });

  it('the console offers the same transactions to choose from, with the plan for none of them meanwhile', async () => {
    process.env.MYPROOF_PW = server.password;
    const api = createConsoleApi(cfg.dir);
    const req = { to: busy.target, into: join(runDir, `myproof-console-${process.pid}`), port: await freePort() };
    const asked = await api.planRestore('myproof', req).result;
    expect(asked.chooseSecond?.transactions.map((t) => t.gtid)).toEqual([gtids.busyA, gtids.busyB]);
    expect(asked.plan.settings['stop-datetime']).toBe(`${new Date(busy.second).toISOString().slice(0, 19).replace('T', ' ')} UTC`);
    const all = await api.planRestore('myproof', { ...req, second: 'inclusive' }).result;
    expect(all.chooseSecond).toBeUndefined();
    const next = new Date(Date.parse(busy.second) + 1000).toISOString();
    expect(all.plan.settings['stop-datetime']).toBe(`${next.slice(0, 19).replace('T', ' ')} UTC`);
    expect(existsSync(req.into)).toBe(false);
  });

  it('--second takes inclusive or exclusive with a time, and nothing else', async () => {
    const bad = await cli(['restore', 'myproof', '--to', busy.target, '--second', 'both', '--into', join(runDir, 'x'), '--port', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('dbdrill: --second "both" must be inclusive (replay every transaction stamped the target\'s second) or exclusive (none of them).');
    const latest = await cli(['restore', 'myproof', '--to', 'latest', '--second', 'inclusive', '--into', join(runDir, 'x'), '--port', '1']);
    expect(latest.code).toBe(2);
    expect(latest.stderr).toContain('dbdrill: --second applies to a --to TIME target only');
    const drill = await cli(['drill', 'myproof', '--second', 'exclusive']);
    expect(drill.code).toBe(2);
    expect(drill.stderr).toContain('dbdrill: --second applies to a --to TIME target only');
  });

  it('a flipped byte in an archived binlog fails --to latest naming the file, and refuses a time past it; nothing is written', async () => {
    await damaged(files.b, (buf) => {
      const at = buf.lastIndexOf('flip-me-');
      buf[at] = buf[at]! ^ 0x20;
      return buf;
    }, async () => {
      const { r, into } = await restoreFails(['--to', 'latest']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`\\ndbdrill: --to latest cannot be reached: the archived ${files.b} is damaged \\(its sha256 [0-9a-f]{64} differs from the one recorded when it was archived, [0-9a-f]{64}\\), so replay would stop at ${files.a}:${statSync(join(binlogDir, files.a)).size} \\(after transaction [0-9-]+ of [0-9: -]+Z\\), short of the newest archived binlog ${files.d}`));
      expect(existsSync(into)).toBe(false);

      const past = await restoreFails(['--to', busy.second]);
      expect(past.r.code).toBe(2);
      expect(past.r.stderr).toContain(`replay would stop at the damaged archived ${files.b} (its sha256`);
      expect(existsSync(past.into)).toBe(false);
    });
  });

  it('a truncated archived binlog fails --to latest naming it and where replay would stop; a drill FAILS at verify', async () => {
    await damaged(files.c, (buf) => buf.subarray(0, buf.length >> 1), async () => {
      const { r, into } = await restoreFails(['--to', 'latest']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`dbdrill: --to latest cannot be reached: the archived ${files.c} is damaged (it holds ${statSync(join(binlogDir, files.c)).size} bytes where ${statSync(join(server.binlogDir!, files.c)).size} were archived)`);
      expect(r.stderr).toContain(`so replay would stop at ${files.b}:${statSync(join(binlogDir, files.b)).size} (after transaction ${gtids.flip} of `);
      expect(existsSync(into)).toBe(false);

      const d = await cli(['drill', 'myproof', '--json']);
      expect(d.code).toBe(1);
      const report = JSON.parse(d.stdout) as DrillReport;
      expect(report.status).toBe('failed');
      expect(report.failedStep).toBe('verify');
      const check = report.checks.find((c) => c.name === 'replay reached the target')!;
      expect(check.ok).toBe(false);
      expect(check.detail).toContain(`--to latest cannot be reached: the archived ${files.c} is damaged`);
      expect(report.steps.find((s) => s.name === 'tear down')!.status).toBe('done');
      expect(existsSync(report.scratch!.dir)).toBe(false);
    });
  });

  it('a binlog the index records but the archive lost fails --to latest naming it', async () => {
    await damaged(files.d, () => undefined, async () => {
      const { r } = await restoreFails(['--to', 'latest']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`dbdrill: --to latest cannot be reached: ${files.d} is recorded in the binlog index but missing from the archive, so replay would stop at ${files.c}:${statSync(join(binlogDir, files.c)).size} (after transaction ${gtids.after} of `);
    });
  });

  it('a replay error fails the restore naming the binlog position, and leaves the new server stopped', async () => {
    const id = readdirSync(join(repo, 'backups'))[0]!;
    const file = join(repo, 'backups', id, 'manifest.json');
    const original = readFileSync(file, 'utf8');
    const m = JSON.parse(original) as Manifest;
    // From the file's start, the replay repeats what the dump already holds: the server refuses it.
    writeFileSync(file, JSON.stringify({ ...m, mysql: { ...m.mysql, binlogPosition: 4 } }, null, 2));
    try {
      const { r, into } = await restoreFails(['--to', 'latest']);
      expect(r.code).toBe(1);
      // The client names the line of the statement it refused; the restore names its event.
      const events = await sql<{ Pos: number; Info: string }[]>(`SHOW BINLOG EVENTS IN '${m.mysql!.binlogFile!}'`);
      const refused = events.find((e) => /CREATE DATABASE/i.test(e.Info))!;
      const end = statSync(join(binlogDir, files.d)).size;
      expect(r.stderr).toMatch(new RegExp(`\\ndbdrill: replay of the archived binlogs failed at ${m.mysql!.binlogFile!.replace('.', '\\.')}:${refused.Pos} \\(mariadb exited with code 1: .*ERROR 1007 .*\\), short of ${files.d}:${end} \\(after transaction ${gtids.last} of [0-9: -]+Z\\); the new server in ${into} was stopped and the directory left for inspection`));
      expect(existsSync(join(into, 'data'))).toBe(true);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('the password never appears in stdout or stderr', () => {
    expect(runs.length).toBeGreaterThan(8);
    for (const r of runs) {
      expect(r.stdout).not.toContain(server.password);
      expect(r.stderr).not.toContain(server.password);
    }
  });
});
