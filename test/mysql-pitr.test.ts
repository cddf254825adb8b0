import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BinlogIndex } from '../src/binlog/archive.js';
import type { RecoverableWindow } from '../src/pitr/window.js';
import type { Manifest } from '../src/repo/manifest.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../src/runner/process.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { runCli, tempConfigDir, type CliResult } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';

// A MariaDB of this file's own: the tests rotate, archive and delete its binary logs, which the
// suite's shared server must never see.
const cfg = tempConfigDir();
const runDir = sandboxRunDir();
const repo = join(cfg.dir, 'repo');
let server: SandboxInstance;
let env: Record<string, string>;
const runs: CliResult[] = [];
const restored: { pid: number; dir: string }[] = [];
const argvSeen = new Set<string>();
let poller: NodeJS.Timeout | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cli(args: string[]): Promise<CliResult> {
  const r = await runCli(args, { env, timeoutMs: 180_000 });
  runs.push(r);
  return r;
}

/** Runs SQL on the source server (or a restored one, given its port and password). */
async function sql<T = mysql.RowDataPacket[]>(text: string, opts: { port?: number; password?: string; database?: string } = {}): Promise<T> {
  const conn = await mysql.createConnection({
    host: '127.0.0.1', port: opts.port ?? server.port, user: server.user, password: opts.password ?? server.password,
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

/** The server's clock in UTC with microseconds: the moment a restore is asked to reach. */
async function serverNow(): Promise<string> {
  const rows = await sql<{ t: string }[]>("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ') AS t");
  return rows[0]!.t;
}

async function serverBinlogs(): Promise<{ all: string[]; closed: string[] }> {
  const rows = await sql<{ Log_name: string }[]>('SHOW BINARY LOGS');
  const all = rows.map((r) => r.Log_name);
  return { all, closed: all.slice(0, -1) };
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const archived = () => readdirSync(join(repo, 'binlog')).filter((n) => /^mysql-bin\.\d{6}$/.test(n)).sort();

/** The restored server's password, from the option file the restore wrote for it. */
function optionFilePassword(file: string): string {
  return /^password="(.*)"$/m.exec(readFileSync(file, 'utf8'))![1]!.replace(/\\(.)/g, '$1');
}

/** Command lines of every MariaDB tool and server seen while the tests ran (for the argv check). */
function watchArgv(): void {
  poller = setInterval(() => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (/mariadb|mysql/.test(cmd)) argvSeen.add(cmd.split('\0').join(' '));
      } catch {
        // gone
      }
    }
  }, 15);
}

beforeAll(async () => {
  server = await startMariadbSandbox({ binlog: true, sampleData: true });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, MYPITR_PW: server.password };
  const add = await cli(['target', 'add', 'mypitr', '--engine', 'mysql', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', 'shop', '--repo', repo, '--password-env', 'MYPITR_PW']);
  expect(add.code, add.stderr).toBe(0);
  watchArgv();
});

afterAll(async () => {
  if (poller) clearInterval(poller);
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

describe('MariaDB binlog archive and point-in-time restore', () => {
  let markedAt = '';
  let firstMarkGtid = '';

  it('archives every closed binlog, byte for byte, and a re-run copies nothing', async () => {
    const backup = await cli(['backup', 'mypitr', '--kind', 'logical', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    const m = (JSON.parse(backup.stdout) as { backup: Manifest }).backup;
    expect(m.mysql?.binlogFile).toMatch(/^mysql-bin\.\d{6}$/);

    await sql('CREATE TABLE marks (n int PRIMARY KEY, note varchar(40))');
    firstMarkGtid = await gtidOf("INSERT INTO marks VALUES (1, 'before the mark')");
    await sleep(1100);
    markedAt = await serverNow();
    await sleep(1100);
    await sql("INSERT INTO marks VALUES (2, 'after the mark')");
    await sql('DROP TABLE order_items');
    await sql('FLUSH BINARY LOGS');

    const { all, closed } = await serverBinlogs();
    const first = await cli(['binlog-sync', 'mypitr', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const r1 = JSON.parse(first.stdout) as { copied: { file: string; sha256: string }[]; alreadyArchived: string[]; server: { current: string } };
    expect(r1.copied.map((c) => c.file)).toEqual(closed);
    expect(r1.server.current).toBe(all.at(-1));
    // The file the server writes is never copied; the closed ones are exact copies.
    expect(archived()).toEqual(closed);
    for (const name of closed) expect(sha(join(repo, 'binlog', name)), name).toBe(sha(join(server.binlogDir!, name)));
    const index = JSON.parse(readFileSync(join(repo, 'binlog', 'index.json'), 'utf8')) as BinlogIndex;
    expect(index.files.map((f) => [f.file, f.sha256])).toEqual(closed.map((n) => [n, sha(join(repo, 'binlog', n))]));
    for (const f of index.files) expect(Date.parse(f.lastEventAt!)).toBeGreaterThanOrEqual(Date.parse(f.firstEventAt!));
    expect(readdirSync(join(repo, 'binlog')).filter((n) => n.startsWith('.'))).toEqual([]);

    const again = await cli(['binlog-sync', 'mypitr', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const r2 = JSON.parse(again.stdout) as { copied: unknown[]; alreadyArchived: string[] };
    expect(r2.copied).toEqual([]);
    expect(r2.alreadyArchived).toEqual(closed);
    const text = await cli(['binlog-sync', 'mypitr']);
    expect(text.stdout).toContain(`Nothing new to archive: ${closed.length} closed binlog(s) already archived.`);

    // The index follows the files: lost (a run interrupted after placing a file), it is rebuilt.
    unlinkSync(join(repo, 'binlog', 'index.json'));
    const rebuilt = await cli(['binlog-sync', 'mypitr', '--json']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect((JSON.parse(rebuilt.stdout) as { copied: unknown[] }).copied).toEqual([]);
    const again2 = JSON.parse(readFileSync(join(repo, 'binlog', 'index.json'), 'utf8')) as BinlogIndex;
    expect(again2.files.map((f) => [f.file, f.sha256, f.lastEventAt])).toEqual(index.files.map((f) => [f.file, f.sha256, f.lastEventAt]));
  });

  it('shows a window that covers the marked time', async () => {
    const w = await cli(['window', 'mypitr', '--json']);
    expect(w.code, w.stderr).toBe(0);
    const win = JSON.parse(w.stdout) as RecoverableWindow;
    expect(win.gaps).toEqual([]);
    expect(Date.parse(win.from!)).toBeLessThan(Date.parse(markedAt));
    expect(Date.parse(win.to!)).toBeGreaterThan(Date.parse(markedAt));
    const text = await cli(['window', 'mypitr']);
    expect(text.stdout).toMatch(/^recoverable: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?Z → \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\narchive: {5}\d+ binlog file\(s\), newest mysql-bin\.\d{6}/);
    expect(text.stdout).toContain('gaps:        none');
  });

  it('restores to the marked time into a new directory and port: the dropped table is back, later writes are not', async () => {
    const into = join(runDir, `mypitr-restored-${process.pid}`);
    const port = await freePort();
    const r = await cli(['restore', 'mypitr', '--to', markedAt, '--into', into, '--port', String(port), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      pid: number; port: number; reached: { lastCommitAt: string }; plan: { settings: Record<string, string> };
      mysql: { schema: string; optionFile: string; stopCommand: string; transactionsReplayed: number };
    };
    restored.push({ pid: report.pid, dir: into });
    expect(report.port).toBe(port);
    expect(report.plan.settings['stop-datetime']).toBe(`${markedAt.slice(0, 19).replace('T', ' ')} UTC`);
    expect(Date.parse(report.reached.lastCommitAt)).toBeLessThanOrEqual(Date.parse(markedAt));
    expect(report.mysql.schema).toBe('shop');
    expect(report.mysql.transactionsReplayed).toBeGreaterThanOrEqual(2);
    // The server outlives the command.
    expect(isPidAlive(report.pid)).toBe(true);

    const password = optionFilePassword(report.mysql.optionFile);
    const marks = await sql<{ n: number }[]>('SELECT n FROM marks ORDER BY n', { port, password });
    expect(marks.map((x) => x.n)).toEqual([1]);
    const items = await sql<{ n: number }[]>('SELECT count(*) AS n FROM order_items', { port, password });
    expect(Number(items[0]!.n)).toBe(4000);
    // The source is untouched: its later writes are still there, the table still gone.
    expect((await sql<{ n: number }[]>('SELECT n FROM marks ORDER BY n')).map((x) => x.n)).toEqual([1, 2]);
    await expect(sql('SELECT 1 FROM order_items LIMIT 1')).rejects.toThrow(/doesn't exist/);

    // The text output says how to reach and stop it; the stop command works as printed.
    expect(r.stderr).toContain('OK replay binlogs');
    const [tool, ...args] = report.mysql.stopCommand.split(' ');
    await promisify(execFile)(tool!, args);
    expect(await waitForPidExit(report.pid, 30_000)).toBe(true);
  });

  it('restores a logical backup up to a GTID: the schema\'s later transactions are left out', async () => {
    const into = join(runDir, `mypitr-gtid-${process.pid}`);
    const port = await freePort();
    const r = await cli(['restore', 'mypitr', '--gtid', firstMarkGtid, '--into', into, '--port', String(port), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { pid: number; plan: { settings: Record<string, string> }; mysql: { optionFile: string; lastGtid?: string; stopCommand: string } };
    restored.push({ pid: report.pid, dir: into });
    expect(report.plan.settings).toMatchObject({ 'stop-after-gtid': firstMarkGtid, database: 'shop' });
    expect(report.mysql.lastGtid).toBe(firstMarkGtid);
    const password = optionFilePassword(report.mysql.optionFile);
    expect((await sql<{ n: number }[]>('SELECT n FROM marks ORDER BY n', { port, password })).map((x) => x.n)).toEqual([1]);
    expect(Number((await sql<{ n: number }[]>('SELECT count(*) AS n FROM order_items', { port, password }))[0]!.n)).toBe(4000);
    const [tool, ...args] = report.mysql.stopCommand.split(' ');
    await promisify(execFile)(tool!, args);
    expect(await waitForPidExit(report.pid, 30_000)).toBe(true);
  });

  it('refuses a time outside the window before writing anything (exit 2, one sentence with the window)', async () => {
    const into = join(runDir, `mypitr-refused-${process.pid}`);
    const early = await cli(['restore', 'mypitr', '--to', '2020-01-01T00:00:00Z', '--into', into, '--port', '1']);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/\ndbdrill: 2020-01-01 00:00:00Z is before the earliest restorable point \(.*\); the recoverable window is .* → .*\.\n$/);
    const late = await cli(['restore', 'mypitr', '--to', new Date(Date.now() + 3600_000).toISOString(), '--into', into, '--port', '1']);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/is past the end of the recoverable window \(.* → .*\): the newest archived binlog event is at .*; choose an earlier time, or --to latest/);
    const lsn = await cli(['restore', 'mypitr', '--lsn', '0/1', '--into', into, '--port', '1']);
    expect(lsn.code).toBe(2);
    expect(lsn.stderr).toContain('MySQL/MariaDB restores take --to TIME|latest, --gtid G or --position FILE:POS');
    expect(existsSync(into)).toBe(false);
  });

  it('refuses a non-empty directory and a busy port, leaving them as they were', async () => {
    const into = join(runDir, `mypitr-busy-${process.pid}`);
    mkdirSync(into, { recursive: true });
    writeFileSync(join(into, 'precious.txt'), 'keep me');
    const r = await cli(['restore', 'mypitr', '--to', 'latest', '--into', into, '--port', String(await freePort())]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not empty; a restore never writes over existing files');
    expect(readdirSync(into)).toEqual(['precious.txt']);
    rmSync(into, { recursive: true });
    const busy = await cli(['restore', 'mypitr', '--to', 'latest', '--into', into, '--port', String(server.port)]);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain(`Port ${server.port} is already in use on 127.0.0.1; give --port a free port.`);
    expect(existsSync(into)).toBe(false);
  });

  it('reports a deleted middle binlog as a gap, refuses a restore that needs it, and a re-run fills it', async () => {
    await sql("INSERT INTO marks VALUES (3, 'file a')");
    await sql('FLUSH BINARY LOGS');
    const missing = (await serverBinlogs()).closed.at(-1)!;
    await sql("INSERT INTO marks VALUES (4, 'file b')");
    await sql('FLUSH BINARY LOGS');
    await sql("INSERT INTO marks VALUES (5, 'file c')");
    await sleep(1100);
    const afterGap = await serverNow();
    await sleep(1100);
    await sql('FLUSH BINARY LOGS');
    const sync = await cli(['binlog-sync', 'mypitr', '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    unlinkSync(join(repo, 'binlog', missing));

    const w = await cli(['window', 'mypitr', '--json']);
    const win = JSON.parse(w.stdout) as RecoverableWindow;
    expect(win.gaps).toEqual([{ timeline: 0, from: missing, to: missing, missing: 1 }]);
    expect(Date.parse(win.to!)).toBeLessThan(Date.parse(afterGap));
    const text = await cli(['window', 'mypitr']);
    expect(text.stdout).toContain(`GAP  ${missing} missing (1 file(s))`);

    const into = join(runDir, `mypitr-gap-${process.pid}`);
    const r = await cli(['restore', 'mypitr', '--to', afterGap, '--into', into, '--port', String(await freePort())]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`replay would stop at the gap ${missing}…${missing} in the binlog archive`);
    expect(existsSync(into)).toBe(false);

    // The server still has the file: archiving again closes the gap.
    const refill = await cli(['binlog-sync', 'mypitr', '--json']);
    expect(refill.code, refill.stderr).toBe(0);
    expect((JSON.parse(refill.stdout) as { copied: { file: string }[] }).copied.map((c) => c.file)).toEqual([missing]);
    expect((JSON.parse((await cli(['window', 'mypitr', '--json'])).stdout) as RecoverableWindow).gaps).toEqual([]);
  });

  it('never overwrites an archived binlog whose bytes differ from the server\'s: the error names both checksums', async () => {
    const name = archived()[0]!;
    const file = join(repo, 'binlog', name);
    const original = readFileSync(file);
    try {
      appendFileSync(file, Buffer.from([0]));
      const grown = readFileSync(file);
      const r = await cli(['binlog-sync', 'mypitr']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`dbdrill: ${name.replace('.', '\\.')} is already archived with different contents \\(archived sha256 [0-9a-f]{64}, server's sha256 ${sha(join(server.binlogDir!, name))}\\); it was not overwritten`));
      expect(readFileSync(file).equals(grown)).toBe(true);

      // Same size, one byte changed: only --verify (which copies again and compares) sees it.
      writeFileSync(file, original);
      const flipped = Buffer.from(original);
      flipped[original.length - 10] = flipped[original.length - 10]! ^ 0xff;
      writeFileSync(file, flipped);
      expect((await cli(['binlog-sync', 'mypitr'])).code).toBe(0);
      const v = await cli(['binlog-sync', 'mypitr', '--verify']);
      expect(v.code).toBe(1);
      expect(v.stderr).toContain(`${name} is already archived with different contents`);
    } finally {
      truncateSync(file, 0);
      writeFileSync(file, original);
    }
    const ok = await cli(['binlog-sync', 'mypitr', '--verify', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { verified: boolean }).verified).toBe(true);
  });

  it('--rotate makes what the server just wrote archivable', async () => {
    await sql("INSERT INTO marks VALUES (6, 'rotated')");
    const before = (await serverBinlogs()).all.at(-1)!;
    const r = await cli(['binlog-sync', 'mypitr', '--rotate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { rotated: boolean; copied: { file: string }[]; newest: string };
    expect(report.rotated).toBe(true);
    expect(report.copied.map((c) => c.file)).toEqual([before]);
    expect(report.newest).toBe(before);
  });

  it('the password never appears in stdout, stderr, argv or the repository', () => {
    expect(runs.length).toBeGreaterThan(10);
    for (const r of runs) {
      expect(r.stdout).not.toContain(server.password);
      expect(r.stderr).not.toContain(server.password);
    }
    expect(argvSeen.size).toBeGreaterThan(0);
    // The watcher did see the tools at work: they got the password through an option file.
    expect([...argvSeen].some((c) => /\/mariadb-dump --defaults-extra-file=\S+client\.cnf /.test(c))).toBe(true);
    for (const cmd of argvSeen) expect(cmd).not.toContain(server.password);
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    // The archived binlogs are the server's own bytes (MariaDB logs CREATE USER … IDENTIFIED BY as
    // written, so the sandbox's setup is in there); everything dbdrill itself writes is checked.
    const written = walk(repo).filter((f) => !/\/binlog\/mysql-bin\.\d{6}$/.test(f));
    expect(written.some((f) => f.endsWith('index.json'))).toBe(true);
    for (const f of written) expect(readFileSync(f).includes(server.password), f).toBe(false);
  });
});
