/**
 * Streaming WAL (issue 19): how much committed data a crash loses, and what --synchronous costs.
 *
 * RPO: a PostgreSQL with a small pgbench database writes under pgbench load while a ticker commits
 * a timestamped row every 20 ms; after a random 5–15 s the postmaster gets SIGKILL. The data lost
 * is the time between the last commit the ticker saw acknowledged and the window's end
 * (`dbdrill window`: the last commit in the repository), once with `dbdrill stream` (pg_receivewal
 * into the repository, no archive_command) and once with archive_command (dbdrill wal-push,
 * archive_timeout 60 s). Median of KILLS kills each, a fresh server per kill.
 *
 * Commit latency: pgbench -T 10 -c 2 on one server without a stream, with `dbdrill stream`, and
 * with `dbdrill stream --synchronous` (each commit waits for pg_receivewal's fsync), each
 * DBDRILL_BENCH_ROUNDS times (3) in rotating order; medians.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { findTool } from '../src/runner/tools.js';
import { signalProcess, waitForPidExit } from '../src/runner/process.js';
import type { SandboxInstance } from '../src/sandbox/index.js';
import { serverAccount } from '../src/sandbox/users.js';
import { archiveCommand } from '../src/wal/command.js';
import { prepareWalDir } from '../src/wal/layout.js';
import { benchSandbox, CLI, dbdrill, median, mustRun, note, printTable, rmTemp, stopBenchSandbox, tempDir } from './util.js';

const KILLS = Number(process.env.DBDRILL_BENCH_KILLS ?? 3);
const SCALE = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ctx {
  config: string;
  env: Record<string, string>;
}

function client(sb: SandboxInstance): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port: sb.port, user: sb.user, password: sb.password, database: 'postgres' });
  c.on('error', () => {});
  return c;
}

async function pgbenchTool() {
  return (await findTool('pgbench', { serverMajor: 15 })).path;
}

function pgbenchArgs(sb: SandboxInstance, extra: string[]): string[] {
  return ['-h', '127.0.0.1', '-p', String(sb.port), '-U', sb.user, ...extra, 'postgres'];
}

function startStream(ctx: Ctx, name: string, extra: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'stream', name, ...extra], { env: { ...process.env, ...ctx.env }, stdio: ['ignore', 'ignore', 'ignore'] });
  return child;
}

async function stopStream(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await done;
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function query<T extends pg.QueryResultRow>(sb: SandboxInstance, text: string): Promise<T[]> {
  const c = client(sb);
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

/** One crash: returns the seconds of acknowledged commits missing from the repository. */
async function oneKill(ctx: Ctx, method: 'stream' | 'archive_command', n: number, work: string): Promise<{ lostSeconds: number; loadSeconds: number }> {
  const name = `${method === 'stream' ? 'st' : 'ac'}${n}`;
  const repo = join(work, `repo-${name}`);
  mkdirSync(repo, { recursive: true, mode: 0o700 });
  prepareWalDir(repo, serverAccount('postgres'));
  const sb = await benchSandbox(method === 'archive_command' ? { archive: { command: archiveCommand(repo) }, settings: { archive_timeout: '60s' } } : {});
  let stream: ChildProcess | undefined;
  let bench: ChildProcess | undefined;
  try {
    const s = sb.sandbox;
    ctx.env.BENCH_PW = s.password;
    await dbdrill(['target', 'add', name, '--engine', 'postgres', '--port', String(s.port), '--user', s.user, '--dbname', 'postgres', '--repo', repo, '--password-env', 'BENCH_PW'], ctx.env);
    await mustRun(await pgbenchTool(), pgbenchArgs(s, ['-i', '-q', '-s', String(SCALE)]), { env: { ...process.env, PGPASSWORD: s.password } });
    await query(s, 'CREATE TABLE ticks (n bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');
    if (method === 'stream') {
      stream = startStream(ctx, name);
      await waitFor('the stream slot', async () => (await query<{ active: boolean }>(s, `SELECT active FROM pg_replication_slots WHERE slot_name = 'dbdrill_${name}'`))[0]?.active === true);
    }
    await dbdrill(['backup', name, '--kind', 'physical'], ctx.env);
    bench = spawn(await pgbenchTool(), pgbenchArgs(s, ['-T', '60', '-c', '2', '-n']), { env: { ...process.env, PGPASSWORD: s.password }, stdio: 'ignore' });
    const ticker = client(s);
    await ticker.connect();
    const loadMs = 5000 + Math.random() * 10_000;
    let lastAck = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < loadMs) {
      await ticker.query('INSERT INTO ticks DEFAULT VALUES');
      lastAck = Date.now();
      await sleep(20);
    }
    signalProcess(s.pid, 'SIGKILL');
    await waitForPidExit(s.pid, 10_000);
    await ticker.end().catch(() => {});
    if (stream) {
      // Let the stream notice and move what it holds, then stop it.
      await sleep(1500);
      await stopStream(stream);
    }
    const w = await dbdrill(['window', name, '--json'], ctx.env);
    const to = Date.parse((JSON.parse(w.stdout) as { to: string }).to);
    return { lostSeconds: Math.max(0, (lastAck - to) / 1000), loadSeconds: loadMs / 1000 };
  } finally {
    bench?.kill('SIGKILL');
    if (stream) await stopStream(stream);
    await stopBenchSandbox(sb).catch(() => {});
  }
}

/** pgbench's average latency (ms) and tps over 10 s. */
async function pgbenchLatency(sb: SandboxInstance): Promise<{ latencyMs: number; tps: number }> {
  const r = await mustRun(await pgbenchTool(), pgbenchArgs(sb, ['-T', '10', '-c', '2', '-n']), { env: { ...process.env, PGPASSWORD: sb.password } });
  const lat = /latency average = ([\d.]+) ms/.exec(r.stdout);
  const tps = /tps = ([\d.]+)/.exec(r.stdout);
  if (!lat || !tps) throw new Error(`pgbench printed no latency: ${r.stdout.slice(-300)}`);
  return { latencyMs: Number(lat[1]), tps: Number(tps[1]) };
}

const LATENCY_ROUNDS = Number(process.env.DBDRILL_BENCH_ROUNDS ?? 3);
type Mode = 'no stream' | 'dbdrill stream' | 'dbdrill stream --synchronous';
const MODES: Mode[] = ['no stream', 'dbdrill stream', 'dbdrill stream --synchronous'];

/** Each mode LATENCY_ROUNDS times in rotating order on one server (the machine's load drifts): medians. */
async function latency(ctx: Ctx, work: string): Promise<string[][]> {
  const repo = join(work, 'repo-lat');
  mkdirSync(repo, { recursive: true, mode: 0o700 });
  prepareWalDir(repo, serverAccount('postgres'));
  const sb = await benchSandbox();
  const runs: Record<Mode, { latencyMs: number; tps: number }[]> = { 'no stream': [], 'dbdrill stream': [], 'dbdrill stream --synchronous': [] };
  let stream: ChildProcess | undefined;
  try {
    const s = sb.sandbox;
    ctx.env.BENCH_PW = s.password;
    await dbdrill(['target', 'add', 'lat', '--engine', 'postgres', '--port', String(s.port), '--user', s.user, '--dbname', 'postgres', '--repo', repo, '--password-env', 'BENCH_PW'], ctx.env);
    await mustRun(await pgbenchTool(), pgbenchArgs(s, ['-i', '-q', '-s', String(SCALE)]), { env: { ...process.env, PGPASSWORD: s.password } });
    const connected = (sync: boolean) => async () =>
      (await query<{ n: number }>(s, `SELECT count(*)::int AS n FROM pg_stat_replication WHERE application_name = 'dbdrill_lat'${sync ? " AND sync_state = 'sync'" : ''}`))[0]!.n === 1;
    for (let round = 0; round < LATENCY_ROUNDS; round++) {
      for (let k = 0; k < MODES.length; k++) {
        const mode = MODES[(round + k) % MODES.length]!;
        if (stream) await stopStream(stream);
        stream = undefined;
        // With the stream stopped, a synchronous setting would hang every commit: reset first.
        await query(s, 'ALTER SYSTEM RESET synchronous_standby_names');
        await query(s, 'SELECT pg_reload_conf()');
        if (mode !== 'no stream') {
          const sync = mode === 'dbdrill stream --synchronous';
          stream = startStream(ctx, 'lat', sync ? ['--synchronous'] : []);
          await waitFor(mode, connected(sync));
        }
        runs[mode].push(await pgbenchLatency(s));
      }
    }
    if (stream) await stopStream(stream);
    stream = undefined;
    await query(s, 'ALTER SYSTEM RESET synchronous_standby_names');
    await query(s, 'SELECT pg_reload_conf()');
  } finally {
    if (stream) await stopStream(stream);
    await stopBenchSandbox(sb).catch(() => {});
  }
  const base = median(runs['no stream'].map((r) => r.latencyMs));
  return MODES.map((m) => {
    const lat = median(runs[m].map((r) => r.latencyMs));
    return [m, lat.toFixed(2), runs[m].map((r) => r.latencyMs.toFixed(1)).join(' '), median(runs[m].map((r) => r.tps)).toFixed(0), `${(lat / base).toFixed(2)}x`];
  });
}

export async function run(): Promise<void> {
  const work = tempDir('stream');
  // The server's user writes the repositories inside (archive_command, pg_receivewal).
  chmodSync(work, 0o711);
  process.env.DBDRILL_ENTRY = CLI;
  const config = join(work, 'config');
  mkdirSync(config, { mode: 0o700 });
  const ctx: Ctx = { config, env: { DBDRILL_CONFIG_DIR: config, DBDRILL_ENTRY: CLI } };
  try {
    const rows: string[][] = [];
    const lost: Record<string, number[]> = { stream: [], archive_command: [] };
    for (let i = 0; i < KILLS; i++) {
      for (const method of ['stream', 'archive_command'] as const) {
        const r = await oneKill(ctx, method, i, work);
        lost[method]!.push(r.lostSeconds);
        note(`${method}: kill ${i + 1} after ${r.loadSeconds.toFixed(1)} s of load: ${r.lostSeconds.toFixed(3)} s of acknowledged commits not in the repository`);
      }
    }
    for (const method of ['stream', 'archive_command'] as const) {
      const xs = lost[method]!;
      rows.push([method === 'stream' ? 'dbdrill stream (pg_receivewal)' : 'archive_command wal-push, archive_timeout 60 s', median(xs).toFixed(3), xs.map((x) => x.toFixed(2)).join(' '), ]);
    }
    printTable(`RPO after kill -9 under pgbench -c 2 (scale ${SCALE}) load: seconds of acknowledged commits missing from the repository, median of ${KILLS}`, ['method', 'median s', 'each kill'], rows);
    printTable(`commit latency: pgbench -T 10 -c 2 -n, ${LATENCY_ROUNDS} rounds in rotating order (medians)`, ['server', 'latency ms', 'each round', 'tps', 'vs no stream'], await latency(ctx, work));
  } finally {
    rmTemp(work);
  }
}
