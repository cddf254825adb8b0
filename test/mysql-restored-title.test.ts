import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createConsoleApi } from '../src/cli/console-api.js';
import { readSandboxState } from '../src/ops/sandbox.js';
import { listRestoredServers } from '../src/ops/restored-servers.js';
import { isPidAlive, signalProcess } from '../src/runner/process.js';
import { stopSandbox } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';

// Issue 20, leftovers: MariaDB restored servers are named in ps as PostgreSQL's are
// (dbdrill-restore-<target>-<moment>), although mariadbd never sets its own title: it is started
// with that name as argv[0]. The console's X (stopRestoredServer) and sandbox stop still find them.

const cfg = tempConfigDir();
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
const parent = mkdtempSync(join(sandboxRunDir(), 'my-restores-'));
chmodSync(parent, 0o755);

afterAll(async () => {
  for (const r of listRestoredServers(cfg.dir)) if (r.running) signalProcess(r.pid, 'SIGKILL', { tree: true });
  const left = readSandboxState(cfg.dir, 'mysql');
  if (left) await stopSandbox(left).catch(() => {});
  rmSync(parent, { recursive: true, force: true });
  cfg.cleanup();
});

/** `ps -eo pid,args` as the operator reads it: pid → the args column. */
function ps(): Map<number, string> {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  const rows = new Map<number, string>();
  for (const line of out.split('\n').slice(1)) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m) rows.set(Number(m[1]), m[2]!);
  }
  return rows;
}

describe('MariaDB servers a restore leaves', () => {
  it('are listed by ps under the restore name, and the console and sandbox stop still stop them', async () => {
    const start = await runCli(['sandbox', 'start', '--engine', 'mysql', '--json'], { env, timeoutMs: 180_000 });
    expect(start.code, start.stderr).toBe(0);
    const backup = await runCli(['backup', 'sandbox-mysql', '--kind', 'logical'], { env, timeoutMs: 180_000 });
    expect(backup.code, backup.stderr).toBe(0);

    const restore = async (dir: string) => {
      const r = await runCli(['restore', 'sandbox-mysql', '--to', 'latest', '--into', join(parent, dir), '--port', String(await freePort()), '--json'], { env, timeoutMs: 240_000 });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { pid: number; port: number };
    };
    const first = await restore('one');
    const second = await restore('two');
    const records = listRestoredServers(cfg.dir, 'sandbox-mysql');
    expect(records.map((r) => r.pid).sort()).toEqual([first.pid, second.pid].sort());
    const one = records.find((r) => r.pid === first.pid)!;
    const two = records.find((r) => r.pid === second.pid)!;
    expect(one.name).toMatch(/^dbdrill-restore-sandbox-mysql-latest-\d{8}T\d{6}Z$/);

    // ps lists each restored server under its own name, with its own directory, and no other
    // process carries that name.
    let rows = ps();
    expect(rows.get(first.pid)).toMatch(new RegExp(`^${one.name} --no-defaults --datadir=${join(parent, 'one')}/data `));
    expect(rows.get(second.pid)).toMatch(new RegExp(`^${two.name} `));
    expect([...rows.entries()].filter(([, args]) => args.startsWith(one.name)).map(([pid]) => pid)).toEqual([first.pid]);
    // Still the server it claims to be: it answers on its port.
    expect(one).toMatchObject({ running: true, port: first.port });

    // The console's X: found by its record (pid and directory), stopped, gone from ps.
    const api = createConsoleApi(cfg.dir);
    expect((await api.listRestoredServers('sandbox-mysql')).filter((r) => r.running).map((r) => r.name).sort()).toEqual([one.name, two.name].sort());
    const stopped = await api.stopRestoredServer(one.name);
    expect(stopped.running).toBe(false);
    expect(isPidAlive(first.pid)).toBe(false);
    rows = ps();
    expect([...rows.values()].some((args) => args.startsWith(one.name))).toBe(false);

    // sandbox stop: the other one goes too, named.
    // --remove: the sandbox's repository in the shared temp dir goes too (CI lists leftovers).
    const stop = await runCli(['sandbox', 'stop', '--engine', 'mysql', '--remove'], { env, timeoutMs: 120_000 });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`Stopped restored server ${two.name} (127.0.0.1:${second.port}, pid ${second.pid}).`);
    expect(isPidAlive(second.pid)).toBe(false);
    expect([...ps().values()].some((args) => args.startsWith(two.name))).toBe(false);
  }, 600_000);
});
