/**
 * A fleet in one console (issue 20): 100 targets in the config, 20 real local PostgreSQL servers
 * (tiny shared_buffers, WAL archiving on) and 80 whose address accepts a connection and never
 * says a word (a listener of this bench's own: the silent host a firewall or a hung server makes).
 * The real console runs in tmux, in a pane tall enough that every row is on screen, and its frames
 * are read as a person would read them. Goals: first frame < 500 ms; every reachable row's
 * archiver status and window filled in within 5 s; every silent one marked "no answer" (its
 * reason: "no answer (timeout 3s)") without holding the others up; the console's CPU while idle on
 * Targets < 2 % of one core, read from /proc/PID/stat over 10 s.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { TargetStore } from '../src/config/store.js';
import { startPostgresSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { CLI, exec, ms, mustRun, note, printTable, rmTemp, secs, tempDir } from './util.js';

const TARGETS = 100;
/** Every EVERY-th target is a real server; the silent ones sit between them, so none is last. */
const EVERY = 5;
const REAL = TARGETS / EVERY;
const COLUMNS = 100;
const ROWS = TARGETS + 12;
const IDLE_SECONDS = 10;
const PW_ENV = (i: number) => `FLEET_PW_${i}`;
const name = (i: number) => `t${String(i).padStart(3, '0')}`;

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface Row {
  archiver: string;
  window: string;
}

/** The table rows on screen, by target name: archiver and window cells. */
function parseRows(pane: string): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const line of pane.split('\n')) {
    const m = /^\s*›?\s*(t\d{3})\s+postgres\s+\S+\s+\S+\s+(no answer|\S+)\s+(.*?)\s*$/.exec(line);
    if (m) out.set(m[1]!, { archiver: m[2]!, window: m[3]! });
  }
  return out;
}

/** User and system CPU ticks of a process so far. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the ")" and state.
  return Number(fields[11]) + Number(fields[12]);
}

export async function run(): Promise<void> {
  const which = await exec('sh', ['-c', 'command -v tmux']);
  if (which.code !== 0) {
    note('fleet skipped: tmux is not installed (apt-get install tmux).');
    return;
  }
  const dir = tempDir('fleet');
  const config = join(dir, 'config');
  mkdirSync(config, { mode: 0o700 });
  const servers: SandboxInstance[] = [];
  const held: Socket[] = [];
  let silent: Server | undefined;
  const socket = ['-L', `dbdrill-fleet-${process.pid}`, '-f', '/dev/null'];
  const tmux = (...args: string[]) => exec('tmux', [...socket, ...args]);
  try {
    // The silent address: accepts, reads nothing back, never answers, never closes.
    silent = createServer((s) => {
      held.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((ok) => silent!.listen(0, '127.0.0.1', ok));
    const silentPort = (silent.address() as { port: number }).port;

    process.stderr.write(`starting ${REAL} PostgreSQL servers (shared_buffers 1MB, archiving on), 4 at a time…\n`);
    const t0 = performance.now();
    const settings = { shared_buffers: '1MB', max_connections: '20', max_wal_senders: '2', autovacuum: 'off' };
    for (let k = 0; k < REAL; k += 4) {
      const batch = await Promise.all(Array.from({ length: Math.min(4, REAL - k) }, () => startPostgresSandbox({ archive: true, settings })));
      servers.push(...batch);
    }
    note(`${REAL} servers up in ${secs(performance.now() - t0)}`);

    const store = new TargetStore(config);
    const env: Record<string, string> = { DBDRILL_CONFIG_DIR: config };
    for (let i = 0; i < TARGETS; i++) {
      const repo = join(dir, 'repos', name(i));
      mkdirSync(repo, { recursive: true });
      const sb = i % EVERY === 0 ? servers[i / EVERY]! : undefined;
      env[PW_ENV(i)] = sb ? sb.password : 'never-asked';
      store.add({
        name: name(i),
        engine: 'postgres',
        host: '127.0.0.1',
        port: String(sb ? sb.port : silentPort),
        user: sb ? sb.user : 'dbdrill',
        dbname: 'postgres',
        repo,
        passwordEnv: PW_ENV(i),
      });
    }

    await mustRun('tmux', [...socket, 'new-session', '-d', '-s', 'keep', 'sleep 900']);
    await mustRun('tmux', [...socket, 'set-option', '-g', 'remain-on-exit', 'on']);
    // The same pane with node printing one line: what the machine's load alone costs a first frame.
    const b0 = performance.now();
    await mustRun('tmux', [...socket, 'new-session', '-d', '-x', String(COLUMNS), '-y', String(ROWS), '-s', 'base', `${shq(process.execPath)} -e ${shq("console.log('ready'); setTimeout(() => {}, 10000)")}`]);
    while (!(await tmux('capture-pane', '-p', '-t', 'base')).stdout.includes('ready') && performance.now() - b0 < 10_000) await new Promise((r) => setTimeout(r, 5));
    const baseline = performance.now() - b0;
    await tmux('kill-session', '-t', 'base');
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${shq(v)}`).join(' ');
    const start = performance.now();
    await mustRun('tmux', [...socket, 'new-session', '-d', '-x', String(COLUMNS), '-y', String(ROWS), '-s', 'fleet', `exec env ${envArgs} ${shq(process.execPath)} ${shq(CLI)}`]);

    let firstFrame: number | undefined;
    let tableAt: number | undefined;
    const reachableAt = new Map<string, number>();
    const silentAt = new Map<string, number>();
    let pane = '';
    while (performance.now() - start < 20_000) {
      pane = (await tmux('capture-pane', '-p', '-t', 'fleet')).stdout;
      const now = performance.now() - start;
      if (firstFrame === undefined && pane.includes('dbdrill')) firstFrame = now;
      const rows = parseRows(pane);
      if (tableAt === undefined && rows.size === TARGETS) tableAt = now;
      for (const [n, r] of rows) {
        const i = Number(n.slice(1));
        if (i % EVERY === 0) {
          if (!reachableAt.has(n) && r.archiver !== '—' && r.archiver !== '?' && r.window !== '—') reachableAt.set(n, now);
        } else if (!silentAt.has(n) && r.archiver === 'no answer') silentAt.set(n, now);
      }
      if (reachableAt.size === REAL && silentAt.size === TARGETS - REAL) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const last = parseRows(pane);
    const sample = [...last.entries()].slice(0, 6).map(([n, r]) => `${n}: ${r.archiver} / ${r.window}`).join('; ');

    // Idle: every row settled, nothing typed; the console's own process over IDLE_SECONDS.
    const panePid = Number((await mustRun('tmux', [...socket, 'display-message', '-p', '-t', 'fleet', '#{pane_pid}'])).stdout.trim());
    await new Promise((r) => setTimeout(r, 2000));
    const hz = 100;
    const c0 = cpuTicks(panePid);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idle = ((cpuTicks(panePid) - c0) / hz / ((performance.now() - w0) / 1000)) * 100;
    // The reason line under the table names the selected row's: select a silent one (t001).
    await tmux('send-keys', '-t', 'fleet', 'j');
    let reasonShown = false;
    for (const t = performance.now(); !reasonShown && performance.now() - t < 5000; await new Promise((r) => setTimeout(r, 50))) {
      reasonShown = (await tmux('capture-pane', '-p', '-t', 'fleet')).stdout.includes('no answer (timeout 3s)');
    }

    const slowestReal = Math.max(...reachableAt.values());
    const slowestSilent = Math.max(...silentAt.values());
    const yes = (ok: boolean) => (ok ? 'met' : 'MISSED');
    printTable(`fleet: ${TARGETS} targets (${REAL} real PostgreSQL, ${TARGETS - REAL} silent), real console in tmux ${COLUMNS}x${ROWS}`, ['what', 'measured', 'goal', ''], [
      ['first frame (header drawn)', firstFrame === undefined ? 'never' : ms(firstFrame), '< 500 ms', yes(firstFrame !== undefined && firstFrame < 500)],
      ['  baseline: node printing one line in the same pane', ms(baseline), '', ''],
      ['all 100 rows listed', tableAt === undefined ? 'never' : ms(tableAt), '', ''],
      [`reachable rows with archiver and window (${reachableAt.size}/${REAL})`, reachableAt.size === REAL ? `slowest ${secs(slowestReal)}` : 'not all', '< 5 s', yes(reachableAt.size === REAL && slowestReal < 5000)],
      [`silent rows marked "no answer" (${silentAt.size}/${TARGETS - REAL})`, silentAt.size === TARGETS - REAL ? `slowest ${secs(slowestSilent)}` : 'not all', '≈ 3 s, all at once', yes(silentAt.size === TARGETS - REAL && slowestSilent < 6000)],
      ['  reachable rows, counted from the table listed', reachableAt.size === REAL && tableAt !== undefined ? `slowest ${secs(slowestReal - tableAt)}` : '', '', ''],
      ['  silent rows, counted from the table listed', silentAt.size === TARGETS - REAL && tableAt !== undefined ? `slowest ${secs(slowestSilent - tableAt)}` : '', '', ''],
      ['reason of a silent row', reasonShown ? '"no answer (timeout 3s)"' : 'not shown', '', yes(reasonShown)],
      [`console CPU idle on Targets (${IDLE_SECONDS} s, /proc stat)`, `${idle.toFixed(2)} % of a core`, '< 2 %', yes(idle < 2)],
    ]);
    note(`rows as last read: ${sample}`);
  } finally {
    await tmux('kill-server');
    for (const s of held) s.destroy();
    silent?.close();
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    rmTemp(dir);
  }
}
