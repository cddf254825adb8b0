/**
 * The console: time to first frame in an 80x24 tmux pane (until "No targets yet" shows), and
 * peak RSS while a JobStore absorbs 1,000,000 tool lines. Goals: < 500 ms, < 150 MB.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, exec, median, mustRun, ms, note, printTable, rmTemp, tempDir } from './util.js';

const RUNS = 5;
const LINES = 1_000_000;
const CHILD = fileURLToPath(new URL('./job-store-child.js', import.meta.url));

export async function run(): Promise<void> {
  await firstFrame();
  await jobStoreMemory();
}

/** Single-quotes for the shell command tmux runs. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function firstFrame(): Promise<void> {
  const which = await exec('sh', ['-c', 'command -v tmux']);
  if (which.code !== 0) {
    note('first frame skipped: tmux is not installed (apt-get install tmux).');
    return;
  }
  const dir = tempDir('console');
  // A private tmux server: nothing of the user's sessions is touched, and kill-server ends it all.
  const socket = ['-L', `dbdrill-bench-${process.pid}`, '-f', '/dev/null'];
  const tmux = (...args: string[]) => exec('tmux', [...socket, ...args]);
  try {
    // A session that lives for the whole bench: without it the server exits with the last
    // measured session and the next new-session can race its shutdown.
    await mustRun('tmux', [...socket, 'new-session', '-d', '-s', 'keep', 'sleep 600']);
    // A console that dies at once leaves its last words on screen for the error below.
    await mustRun('tmux', [...socket, 'set-option', '-g', 'remain-on-exit', 'on']);
    const time = async (cmd: string, marker: string, i: number): Promise<number> => {
      const session = `s${i}`;
      const t0 = performance.now();
      await mustRun('tmux', [...socket, 'new-session', '-d', '-x', '80', '-y', '24', '-s', session, cmd]);
      for (;;) {
        const pane = await tmux('capture-pane', '-p', '-t', session);
        if (pane.stdout.includes(marker)) {
          const took = performance.now() - t0;
          await tmux('kill-session', '-t', session);
          return took;
        }
        if (performance.now() - t0 > 10_000) throw new Error(`"${marker}" did not appear within 10 s; the pane shows:\n${pane.stdout}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const base: number[] = [];
    const con: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      base.push(await time(`${shq(process.execPath)} -e ${shq("console.log('ready'); setTimeout(() => {}, 10000)")}`, 'ready', i * 2));
      const config = join(dir, `config-${i}`);
      mkdirSync(config, { mode: 0o700 });
      con.push(await time(`${shq(process.execPath)} ${shq(CLI)} --config ${shq(config)}`, 'No targets yet', i * 2 + 1));
    }
    const parts = await importCosts();
    printTable(`console first frame, tmux 80x24, empty config (median and best of ${RUNS}; imports timed in a fresh process, in load order)`, ['what', 'median', 'best', 'goal'], [
      ['dbdrill console until "No targets yet"', ms(median(con)), ms(Math.min(...con)), '< 500 ms'],
      ['  baseline: node printing one line in the same pane', ms(median(base)), ms(Math.min(...base)), ''],
      ...parts.map(([what, t]) => [`  import ${what}`, ms(median(t)), ms(Math.min(...t)), '']),
    ]);
  } finally {
    await tmux('kill-server');
    rmTemp(dir);
  }
}

/**
 * Where the first frame's time goes: the console's imports, each timed in a fresh process in the
 * order the console loads them, and the unbundled screens for comparison (the build bundles them
 * with scripts/bundle-console.mjs because importing hundreds of small files took ~1 s).
 */
async function importCosts(): Promise<[string, number[]][]> {
  const mods: [string, string][] = [
    ['src/cli/console-api.js (engine loaded on first use)', new URL('../src/cli/console-api.js', import.meta.url).href],
    ['console bundle: every screen, Ink, React (dist/console)', new URL('../console/render.js', import.meta.url).href],
    ['config store (conf, ajv): loaded during the first frame', new URL('../src/config/store.js', import.meta.url).href],
    ['for comparison, unbundled: screens/render.js + Ink + React', new URL('../screens/render.js', import.meta.url).href],
  ];
  const script = `const out = [];
for (const m of ${JSON.stringify(mods.map((m) => m[1]))}) { const t = performance.now(); await import(m); out.push(performance.now() - t); }
console.log(JSON.stringify(out));`;
  const times: number[][] = mods.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    // Resolved from dist/bench, so bare names find the project's node_modules.
    const r = await mustRun(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('.', import.meta.url)) });
    (JSON.parse(r.stdout) as number[]).forEach((t, k) => times[k]!.push(t));
  }
  return mods.map((m, k) => [m[0], times[k]!]);
}

async function jobStoreMemory(): Promise<void> {
  const r = await mustRun(process.execPath, ['--expose-gc', CHILD, String(LINES)]);
  const m = JSON.parse(r.stdout) as {
    lines: number; ms: number; baselineMb: number; peakMb: number; maxRssMb: number; notifications: number; tail: number; logTotal: number; state: string;
  };
  if (m.logTotal !== LINES || m.state !== 'done') throw new Error(`the store saw ${m.logTotal} lines (state ${m.state}), expected ${LINES} and done`);
  printTable(`JobStore absorbing ${LINES.toLocaleString('en-US')} tool lines (own process)`, ['what', 'value', 'goal'], [
    ['peak RSS (max resident set, whole process)', `${m.maxRssMb.toFixed(0)} MB`, '< 150 MB'],
    ['RSS before the first line', `${m.baselineMb.toFixed(0)} MB`, ''],
    ['time to absorb every line', ms(m.ms), ''],
    ['lines per second', Math.round((m.lines * 1000) / m.ms).toLocaleString('en-US'), ''],
    ['notifications to the subscriber (batched ~50 ms)', String(m.notifications), ''],
    ['lines kept in the tail', String(m.tail), ''],
  ]);
}
