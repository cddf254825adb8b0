import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/repo/manifest.js';
import { findTool } from '../src/runner/tools.js';
import { ArchivedPostgres, PitrRestores } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';

/**
 * Point-in-time restores are exact under load: while pgbench runs, marker rows are committed one
 * by one, and each restore to a marker's own commit time (to the microsecond, read with
 * track_commit_timestamp) holds exactly the markers committed at or before it. The cluster has
 * 1 MiB WAL segments (initdb --wal-segsize=1), which issue 11 found planned as if 16 MiB.
 */
const run = promisify(execFile);
const cfg = tempConfigDir();
let db: ArchivedPostgres;
let env: Record<string, string>;
let restores: PitrRestores;
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 300_000 });
let backup: Manifest;
/** Marker n's commit time, ISO 8601 UTC with microseconds, in commit order. */
let markers: { n: number; at: string }[] = [];
const ISO_US = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

const markersIn = async (port: number) => (await db.sql<{ n: number }>('SELECT n FROM markers ORDER BY n', port)).map((r) => r.n);

beforeAll(async () => {
  db = await ArchivedPostgres.start('load', { walSegmentMB: 1, settings: { track_commit_timestamp: 'on' } });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, LOAD_PW: db.server.password };
  restores = new PitrRestores(cli, 'load-restored');
  const add = await cli(['target', 'add', 'load', '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', 'LOAD_PW']);
  expect(add.code, add.stderr).toBe(0);
  const pgbench = (await findTool('pgbench')).path;
  const conn = ['-h', '127.0.0.1', '-p', String(db.server.port), '-U', db.server.user];
  const pgEnv = { ...process.env, PGPASSWORD: db.server.password };
  await run(pgbench, ['-i', '-q', '-s', '1', ...conn, 'shop'], { env: pgEnv });
  await db.sql('CREATE TABLE markers (n int PRIMARY KEY)');
  const b = await cli(['backup', 'load', '--kind', 'physical', '--json']);
  expect(b.code, b.stderr).toBe(0);
  backup = (JSON.parse(b.stdout) as { backup: Manifest }).backup;

  // pgbench at a steady rate for 20 s; a marker every ~400 ms in its own transaction meanwhile.
  const load = run(pgbench, ['-n', '-c', '2', '-R', '100', '-T', '20', ...conn, 'shop'], { env: pgEnv });
  for (let n = 1; n <= 36; n++) {
    await db.sql(`INSERT INTO markers VALUES (${n})`);
    await new Promise((r) => setTimeout(r, 400));
  }
  await load;
  await db.sql('INSERT INTO markers VALUES (1000)');
  await db.switchAndArchive();
  markers = await db.sql<{ n: number; at: string }>(`SELECT n, to_char(pg_xact_commit_timestamp(xmin) AT TIME ZONE 'UTC', ${ISO_US}) AS at FROM markers WHERE n < 1000 ORDER BY n`);
}, 600_000);

afterAll(async () => {
  await restores?.stopAll();
  await db?.stop();
  cfg.cleanup();
});

describe('a 1 MiB-segment cluster under pgbench load', () => {
  it('names its WAL by its own segment size, and its window reaches past the last marker', async () => {
    expect(backup.postgres!.walSegmentBytes).toBe(1024 * 1024);
    const names = await db.sql<{ start: string }>(`SELECT pg_walfile_name('${backup.postgres!.startLsn}') AS start`);
    expect(backup.postgres!.walStart).toBe(names[0]!.start);
    const w = JSON.parse((await cli(['window', 'load', '--json'])).stdout) as { from: string; to: string; gaps: unknown[]; segments: number };
    expect(w.gaps).toEqual([]);
    expect(w.segments).toBeGreaterThan(5);
    expect(Date.parse(w.to)).toBeGreaterThanOrEqual(Date.parse(markers.at(-1)!.at));
  }, 120_000);

  // Markers whose commit time is not a whole millisecond, spread over the run: restoring to one
  // of them with its time cut to milliseconds would lose it.
  const picks = () => {
    const candidates = markers.filter((m) => !m.at.endsWith('000Z'));
    return [0.15, 0.35, 0.55, 0.75, 0.95].map((f) => candidates[Math.floor(f * (candidates.length - 1))]!);
  };

  it('five time targets, each a marker\'s exact commit time: exactly the markers committed at or before it', async () => {
    expect(markers.length).toBe(36);
    for (const m of picks()) {
      const r = await restores.restore('load', ['--to', m.at]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.report!.plan.settings.recovery_target_time).toBe(m.at.replace('T', ' ').replace('Z', '+00'));
      expect(await markersIn(r.port), `restore to marker ${m.n} at ${m.at}`).toEqual(markers.filter((x) => x.at <= m.at).map((x) => x.n));
      // pgbench's own invariant: each transaction moves the same delta into an account and the history.
      const [sums] = await db.sql<{ balance: string; history: string }>('SELECT (SELECT sum(abalance) FROM pgbench_accounts) AS balance, (SELECT coalesce(sum(delta), 0) FROM pgbench_history) AS history', r.port);
      expect(sums!.balance).toBe(sums!.history);
      await restores.stop(r.report!.pid);
    }
  }, 900_000);

  it('--exclusive stops just before a commit at exactly the target', async () => {
    const m = picks()[2]!;
    const r = await restores.restore('load', ['--to', m.at, '--exclusive']);
    expect(r.code, r.stderr).toBe(0);
    expect(await markersIn(r.port)).toEqual(markers.filter((x) => x.at < m.at).map((x) => x.n));
    await restores.stop(r.report!.pid);
  }, 300_000);
});
