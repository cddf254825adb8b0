/**
 * Archiving speed, one process per 16 MB segment as archive_command runs it: plain cp + sync,
 * `dbdrill wal-push` (plain and --compress zstd), and `pgbackrest archive-push` (uncompressed,
 * its default gz, and zst).
 * The segments are real ones from a sandbox, so pgBackRest accepts them for its stanza.
 * Also: start-up time of `dbdrill --version` and of a wal-push that has nothing to write.
 */
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import pg from 'pg';
import { SEGMENT_RE } from '../src/pitr/wal-names.js';
import { findTool } from '../src/runner/tools.js';
import { walPush } from '../src/wal/archive.js';
import type { SandboxInstance } from '../src/sandbox/index.js';
import { asyncArchiveCommand, createStanza, type Stanza } from './pgbackrest.js';
import { keepsUp } from './wal-keepsup.js';
import { benchSandbox, CLI, exec, median, ms, note, printTable, ratio, rmTemp, stopBenchSandbox, tempDir, type Ran } from './util.js';

/**
 * 100 by default, the issues' figure: with 30 the whole paced run is the start of a burst, and the
 * steady state the backlog goal is about never shows. DBDRILL_BENCH_SEGMENTS=30 for a quick run.
 */
const SEGMENTS = Number(process.env.DBDRILL_BENCH_SEGMENTS) > 0 ? Number(process.env.DBDRILL_BENCH_SEGMENTS) : 100;
const ROUNDS = 2;
const STARTUP_RUNS = 20;
const DBDRILL = 'dbdrill wal-push --repo DIR %p';

type Push = (segment: string) => Promise<Ran>;
interface Method { name: string; prepare: (round: number) => Promise<Push> }

export async function run(): Promise<void> {
  const dir = tempDir('wal');
  // pgBackRest runs as postgres and must reach the segments and its own directory.
  chmodSync(dir, 0o755);
  let sb: Awaited<ReturnType<typeof benchSandbox>> | undefined;
  try {
    sb = await benchSandbox({ archive: true });
    const sandbox = sb.sandbox;
    const segments = await makeSegments(sandbox, join(dir, 'segments'));
    // Warm the page cache so every method reads the same way.
    for (const s of segments) readFileSync(s);
    const owner = statSync(sandbox.dataDir);

    let pgbackrest: string | undefined;
    let skipWhy: string | undefined;
    try {
      pgbackrest = (await findTool('pgbackrest')).path;
    } catch (e) {
      skipWhy = (e as Error).message;
    }
    const pgbr = (compress: string): Method => ({
      name: `pgbackrest archive-push (compress-type=${compress})`,
      prepare: async (round) => {
        const stanzaDir = join(dir, `pgbr-${compress}-${round}`);
        const st: Stanza = await createStanza(pgbackrest!, stanzaDir, sandbox, owner, { 'compress-type': compress });
        return st.push;
      },
    });
    const methods: Method[] = [
      {
        name: 'cp + sync (per file)',
        prepare: async (round) => {
          const dest = join(dir, `cp-${round}`);
          mkdirSync(dest, { mode: 0o700 });
          return (s) => exec('sh', ['-c', 'cp "$1" "$2" && sync "$2"', 'sh', s, join(dest, s.slice(s.lastIndexOf('/') + 1))]);
        },
      },
      {
        name: 'cp + sync FILE DIR (also fsyncs the directory)',
        prepare: async (round) => {
          const dest = join(dir, `cpdir-${round}`);
          mkdirSync(dest, { mode: 0o700 });
          return (s) => exec('sh', ['-c', 'cp "$1" "$2/$3" && sync "$2/$3" "$2"', 'sh', s, dest, s.slice(s.lastIndexOf('/') + 1)]);
        },
      },
      {
        name: 'walPush() in-process (no process start)',
        prepare: async (round) => {
          const repo = join(dir, `inproc-${round}`);
          return async (s) => {
            const t0 = performance.now();
            await walPush(repo, s);
            return { code: 0, signal: null, ms: performance.now() - t0, stdout: '', stderr: '' };
          };
        },
      },
      {
        name: DBDRILL,
        prepare: async (round) => {
          const repo = join(dir, `dbdrill-${round}`);
          return (s) => exec(process.execPath, [CLI, 'wal-push', '--repo', repo, s]);
        },
      },
      {
        name: 'dbdrill wal-push --compress zstd',
        prepare: async (round) => {
          const repo = join(dir, `dbdrill-zstd-${round}`);
          return (s) => exec(process.execPath, [CLI, 'wal-push', '--repo', repo, '--compress', 'zstd', s]);
        },
      },
      ...(pgbackrest ? [pgbr('none'), pgbr('gz'), pgbr('zst')] : []),
    ];

    const totals = new Map<string, { ms: number; n: number; error?: string }>(methods.map((m) => [m.name, { ms: 0, n: 0 }]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? methods : [...methods].reverse();
      for (const m of order) {
        const t = totals.get(m.name)!;
        if (t.error) continue;
        try {
          const push = await m.prepare(round);
          for (const s of segments) {
            const r = await push(s);
            if (r.code !== 0) throw new Error(`exit ${r.code ?? r.signal} on ${s}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
            t.ms += r.ms;
            t.n++;
          }
        } catch (e) {
          t.error = (e as Error).message;
        }
      }
    }

    const rate = (name: string) => {
      const t = totals.get(name)!;
      return t.error || t.n === 0 ? undefined : (t.n * 1000) / t.ms;
    };
    printTable(`wal-push: ${SEGMENTS} real 16 MB segments x ${ROUNDS} rounds, one process per segment`, ['method', 'segments/s', 'MB/s', 'ms/segment'], methods.map((m) => {
      const r = rate(m.name);
      const t = totals.get(m.name)!;
      return r === undefined ? [m.name, 'FAILED', '', t.error ?? ''] : [m.name, r.toFixed(1), (r * 16).toFixed(0), (t.ms / t.n).toFixed(1)];
    }));
    // Time per segment, dbdrill's over the other's: above 1.00x dbdrill is slower.
    const perSeg = (name: string) => {
      const t = totals.get(name)!;
      return t.error || t.n === 0 ? undefined : t.ms / t.n;
    };
    const dd = perSeg(DBDRILL);
    const rows: string[][] = [];
    for (const m of methods) {
      const other = perSeg(m.name);
      if (m.name !== DBDRILL && dd && other) rows.push([`dbdrill wal-push / ${m.name}`, ratio(dd, other)]);
    }
    if (rows.length) printTable('time per segment, dbdrill / other (above 1.00x: dbdrill is slower)', ['pair', 'ratio'], rows);
    if (!pgbackrest) note(`pgbackrest skipped: ${skipWhy}`);
    for (const m of methods) if (totals.get(m.name)!.error) note(`${m.name} failed: ${totals.get(m.name)!.error}`);

    // Keeping up: paced at the cp + sync rate measured above.
    const cp = perSeg('cp + sync FILE DIR (also fsyncs the directory)');
    if (cp) {
      const id = await systemIdOf(sandbox);
      const pgbrAsync = pgbackrest ? (_repo: string, pgdata: string) => asyncArchiveCommand(pgbackrest!, join(dir, 'keepsup', `pgbr-async-${basename(pgdata)}`), sandbox, owner, pgdata) : undefined;
      await keepsUp(join(dir, 'keepsup'), segments, id, cp, pgbrAsync);
    }

    await startup(dir);
  } finally {
    try {
      await stopBenchSandbox(sb);
    } finally {
      rmTemp(dir);
    }
  }
}

async function systemIdOf(sb: SandboxInstance): Promise<string> {
  const client = new pg.Client({ host: sb.host, port: sb.port, user: sb.user, password: sb.password, database: 'postgres' });
  await client.connect();
  try {
    return (await client.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!.id;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Writes data and switches WAL until the sandbox has archived enough full segments, then copies them. */
async function makeSegments(sb: SandboxInstance, into: string): Promise<string[]> {
  const client = new pg.Client({ host: sb.host, port: sb.port, user: sb.user, password: sb.password, database: 'postgres' });
  await client.connect();
  const archived = () => readdirSync(sb.archiveDir!).filter((n) => SEGMENT_RE.test(n)).sort();
  try {
    await client.query('CREATE TABLE bench_wal (id int, payload text)');
    // The first segments hold initdb's records; take segments written by the inserts.
    const skip = archived().length + 2;
    const deadline = Date.now() + 180_000;
    let batch = 0;
    while (archived().length < skip + SEGMENTS) {
      if (Date.now() > deadline) throw new Error(`the sandbox archived only ${archived().length} segments in 3 minutes`);
      if (batch < (SEGMENTS + 4) * 1.2) {
        await client.query(`INSERT INTO bench_wal SELECT g, md5(g::text) || md5((g + ${batch})::text) FROM generate_series(1, 150000) g`);
        await client.query('SELECT pg_switch_wal()');
        batch++;
      } else {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    mkdirSync(into, { mode: 0o755 });
    const chosen = archived().slice(skip, skip + SEGMENTS);
    return chosen.map((name) => {
      const to = join(into, name);
      copyFileSync(join(sb.archiveDir!, name), to);
      chmodSync(to, 0o644);
      return to;
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Median start-up of the CLI against plain node, and of a wal-push with nothing to write. */
async function startup(dir: string): Promise<void> {
  const repo = join(dir, 'startup-repo');
  const history = join(dir, '00000002.history');
  writeFileSync(history, '1\t0/3000000\tno recovery target specified\n');
  const first = await exec(process.execPath, [CLI, 'wal-push', '--repo', repo, history]);
  if (first.code !== 0) throw new Error(`wal-push of a history file failed: ${first.stderr.trim()}`);
  const cases: [string, string, string[]][] = [
    ['node -e 0 (Node.js itself)', process.execPath, ['-e', '0']],
    ['dbdrill --version', process.execPath, [CLI, '--version']],
    ['dbdrill wal-push (already archived: read + sha256, no write)', process.execPath, [CLI, 'wal-push', '--repo', repo, history]],
  ];
  let pgbackrest: string | undefined;
  try {
    pgbackrest = (await findTool('pgbackrest')).path;
    cases.push(['pgbackrest version', pgbackrest, ['version']]);
  } catch {
    // Reported above.
  }
  const rows: string[][] = [];
  for (const [name, cmd, args] of cases) {
    const times: number[] = [];
    for (let i = 0; i < STARTUP_RUNS; i++) {
      const r = await exec(cmd, args);
      if (r.code !== 0) throw new Error(`${name} exited ${r.code}: ${r.stderr.trim()}`);
      times.push(r.ms);
    }
    rows.push([name, ms(median(times)), ms(Math.min(...times))]);
  }
  printTable(`start-up (median and best of ${STARTUP_RUNS})`, ['command', 'median', 'best'], rows);
}
