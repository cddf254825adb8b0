import { existsSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readSandboxState } from '../src/ops/sandbox.js';
import { isPidAlive, listProcesses } from '../src/runner/process.js';
import { stopSandbox } from '../src/sandbox/index.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { withPg } from './helpers/sandbox.js';

const cfg = tempConfigDir();
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
const repos: string[] = [];

afterAll(async () => {
  // A failed assertion must not leave the detached server running.
  const left = readSandboxState(cfg.dir, 'postgres');
  if (left) await stopSandbox(left).catch(() => {});
  for (const r of repos) rmSync(r, { recursive: true, force: true });
  cfg.cleanup();
});

describe('dbdrill with no command, off a terminal', () => {
  it('prints the target list (as target list would) and exits 0', async () => {
    // execFile gives the child pipes, not a TTY: the console must not try to open.
    const empty = await runCli([], { env });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/^No targets yet\. Add one with: dbdrill target add NAME/);
    expect(empty.stdout).toContain('dbdrill sandbox start');

    const add = await runCli(['target', 'add', 'ledger', '--engine', 'postgres', '--host', 'db9.example', '--port', '5439', '--user', 'bk', '--dbname', 'books', '--repo', '/srv/ledger'], { env });
    expect(add.code, add.stderr).toBe(0);
    const r = await runCli([], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+ENGINE\s+ADDRESS\s+USER\s+DATABASE\s+REPO\n/);
    expect(r.stdout).toMatch(/ledger\s+postgres\s+db9\.example:5439\s+bk\s+books\s+\/srv\/ledger/);
    expect(r.stdout).toBe((await runCli(['target', 'list'], { env })).stdout);
    const json = await runCli(['--json'], { env });
    expect(JSON.parse(json.stdout)).toEqual({ targets: [expect.objectContaining({ name: 'ledger', port: 5439 })] });
    expect((await runCli(['target', 'remove', 'ledger'], { env })).code).toBe(0);
  });
});

describe('dbdrill sandbox start|status|stop', () => {
  it('starts a detached PostgreSQL as target "sandbox", reports it running, and stop leaves no process', async () => {
    const start = await runCli(['sandbox', 'start', '--json'], { env, timeoutMs: 120_000 });
    expect(start.code, start.stderr).toBe(0);
    const started = JSON.parse(start.stdout) as { target: { name: string; repo: string; port: number; dbname: string }; info: { pid: number; port: number; dataDir: string; dir: string }; alreadyRunning: boolean };
    repos.push(started.target.repo);
    expect(started.alreadyRunning).toBe(false);
    expect(started.target).toMatchObject({ name: 'sandbox', port: started.info.port, dbname: 'shop' });
    expect(start.stdout).not.toContain('"password"');

    // The CLI has exited; the server must still answer, with the sample data.
    expect(isPidAlive(started.info.pid)).toBe(true);
    const state = readSandboxState(cfg.dir, 'postgres')!;
    const orders = await withPg(state, (c) => c.query<{ n: string }>('SELECT count(*)::text AS n FROM orders'));
    expect(Number(orders.rows[0]!.n)).toBeGreaterThan(0);

    const status = await runCli(['sandbox', 'status', '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      engine: 'postgres',
      exists: true,
      status: { running: true, pidAlive: true, accepting: true },
      info: { pid: started.info.pid, port: started.info.port },
    });
    const text = await runCli(['sandbox', 'status'], { env });
    expect(text.stdout).toMatch(new RegExp(`^OK   running: postgres sandbox 15\\.\\d+ on 127\\.0\\.0\\.1:${started.info.port}, pid ${started.info.pid}`));

    const list = await runCli(['target', 'list', '--json'], { env });
    expect((JSON.parse(list.stdout) as { targets: { name: string }[] }).targets.map((t) => t.name)).toEqual(['sandbox']);

    const again = await runCli(['sandbox', 'start', '--json'], { env, timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyRunning: true, info: { pid: started.info.pid } });

    const stop = await runCli(['sandbox', 'stop', '--json'], { env, timeoutMs: 60_000 });
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ stopped: true, target: 'sandbox', repo: started.target.repo, restoresStopped: [] });

    expect(isPidAlive(started.info.pid)).toBe(false);
    const stragglers = listProcesses().filter((p) => p.commandLine.includes(started.info.dir) || (p.cwd?.startsWith(started.info.dir) ?? false));
    expect(stragglers).toEqual([]);
    expect(existsSync(started.info.dir)).toBe(false);
    expect(JSON.parse((await runCli(['target', 'list', '--json'], { env })).stdout)).toEqual({ targets: [] });
    expect(JSON.parse((await runCli(['sandbox', 'status', '--json'], { env })).stdout)).toEqual({ engine: 'postgres', exists: false });
    const stopAgain = await runCli(['sandbox', 'stop'], { env });
    expect(stopAgain.code).toBe(0);
    // What it left (its repository) is still named, with the way to remove it.
    expect(stopAgain.stdout).toMatch(/^No postgres sandbox is running\.\nLeft on disk, [\d.]+ \w+:\n +[\d.]+ \w+ +repository +\S+\nRemove them with: dbdrill sandbox stop --remove\n$/);
  });
});
