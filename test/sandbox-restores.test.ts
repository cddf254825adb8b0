import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createConsoleApi } from '../src/cli/console-api.js';
import { readSandboxState } from '../src/ops/sandbox.js';
import { listRestoredServers } from '../src/ops/restored-servers.js';
import { isPidAlive, listProcesses, signalProcess } from '../src/runner/process.js';
import { stopSandbox } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';

// Issue 20, leftovers: a restored server is named after what it is, the console lists and stops
// it, and sandbox stop stops and reports (with sizes) everything the sandbox and its restores left.

const cfg = tempConfigDir();
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
// Under the run's sandbox dir: the postgres user can reach it (a 0700 temp dir of root's it cannot).
const parent = mkdtempSync(join(sandboxRunDir(), 'restores-'));
chmodSync(parent, 0o755);

afterAll(async () => {
  // A failed assertion must not leave servers running.
  for (const r of listRestoredServers(cfg.dir)) if (r.running) signalProcess(r.pid, 'SIGQUIT');
  const left = readSandboxState(cfg.dir, 'postgres');
  if (left) await stopSandbox(left).catch(() => {});
  rmSync(parent, { recursive: true, force: true });
  cfg.cleanup();
});

const titled = (name: string) => listProcesses().filter((p) => p.commandLine.includes(name));

describe('servers a restore of the sandbox leaves', () => {
  it('carry the restore name in ps, are listed and stopped by the console, and sandbox stop reports and removes what is left', async () => {
    const start = await runCli(['sandbox', 'start', '--json'], { env, timeoutMs: 180_000 });
    expect(start.code, start.stderr).toBe(0);
    const backup = await runCli(['backup', 'sandbox', '--kind', 'physical'], { env, timeoutMs: 180_000 });
    expect(backup.code, backup.stderr).toBe(0);

    // Two restores: one the console stops, one sandbox stop must stop.
    const restore = async (dir: string) => {
      const r = await runCli(['restore', 'sandbox', '--to', 'latest', '--into', join(parent, dir), '--port', String(await freePort()), '--json'], { env, timeoutMs: 180_000 });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { pid: number; port: number };
    };
    const first = await restore('one');
    const second = await restore('two');
    const records = listRestoredServers(cfg.dir, 'sandbox');
    expect(records.map((r) => r.pid).sort()).toEqual([first.pid, second.pid].sort());
    const one = records.find((r) => r.pid === first.pid)!;
    expect(one.name).toMatch(/^dbdrill-restore-sandbox-latest-\d{8}T\d{6}Z$/);
    expect(one).toMatchObject({ running: true, dir: join(parent, 'one'), port: first.port });
    expect(one.bytes).toBeGreaterThan(10 * 1024 * 1024);
    // ps: the postmaster's children carry cluster_name, not the sandbox's name.
    const procs = titled(one.name);
    expect(procs.length).toBeGreaterThan(1);
    expect(procs.some((p) => /dbdrill-sandbox-/.test(p.commandLine))).toBe(false);

    // The console lists both and stops one.
    const api = createConsoleApi(cfg.dir);
    expect((await api.listRestoredServers('sandbox')).filter((r) => r.running)).toHaveLength(2);
    const stopped = await api.stopRestoredServer(one.name);
    expect(stopped.running).toBe(false);
    expect(isPidAlive(first.pid)).toBe(false);
    expect(titled(one.name)).toEqual([]);
    expect(existsSync(one.dir)).toBe(true);

    // sandbox stop: the other restored server goes too, and what is left is named with sizes.
    const stop = await runCli(['sandbox', 'stop'], { env, timeoutMs: 120_000 });
    expect(stop.code, stop.stderr).toBe(0);
    const twoName = records.find((r) => r.pid === second.pid)!.name;
    expect(stop.stdout).toContain(`Stopped restored server ${twoName} (127.0.0.1:${second.port}, pid ${second.pid}).`);
    expect(isPidAlive(second.pid)).toBe(false);
    expect(stop.stdout).toMatch(/Left on disk, [\d.]+ (MiB|GiB):/);
    expect(stop.stdout).toMatch(new RegExp(`[\\d.]+ MiB +restored +${join(parent, 'one')}`));
    expect(stop.stdout).toMatch(new RegExp(`[\\d.]+ MiB +restored +${join(parent, 'two')}`));
    expect(stop.stdout).toMatch(/[\d.]+ \w+ +repository +\//);
    expect(stop.stdout).toContain('Remove them with: dbdrill sandbox stop --remove');

    // Another config's sandbox repository, named alike in the same shared directory: not ours.
    const decoy = join(sandboxRunDir(), 'dbdrill-repo-sandbox-20200101T000000');
    mkdirSync(join(decoy, 'wal'), { recursive: true });

    // --remove, later: every one of them goes.
    const remove = await runCli(['sandbox', 'stop', '--remove', '--json'], { env, timeoutMs: 60_000 });
    expect(remove.code, remove.stderr).toBe(0);
    const removed = (JSON.parse(remove.stdout) as { removed: { what: string; path: string }[] }).removed;
    expect(removed.map((l) => l.what).sort()).toEqual(['repository', 'restore', 'restore']);
    for (const l of removed) expect(existsSync(l.path), l.path).toBe(false);
    expect(existsSync(join(decoy, 'wal'))).toBe(true);
    rmSync(decoy, { recursive: true, force: true });
    expect(listRestoredServers(cfg.dir)).toEqual([]);
    const again = await runCli(['sandbox', 'stop'], { env });
    expect(again.stdout).toBe('No postgres sandbox is running.\nNothing of it is left on disk.\n');
  }, 600_000);
});
