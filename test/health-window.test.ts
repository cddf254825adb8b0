import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthSamplerFor, type HealthReport } from '../src/ops/health.js';
import { startPostgresSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { serverAccount } from '../src/sandbox/users.js';
import { archiveCommand } from '../src/wal/command.js';
import { prepareWalDir } from '../src/wal/layout.js';
import { archivedSegment } from '../src/pitr/wal-names.js';
import { CLI, runCli, tempConfigDir } from './helpers/cli.js';
import { parsePromText } from './helpers/prom-parse.js';
import { sandboxRunDir } from './helpers/sandbox.js';

// archive_command runs the built CLI (dbdrill wal-push), as PostgreSQL will in production.
process.env.DBDRILL_ENTRY = CLI;

/**
 * The recoverable window in health reports and the Prometheus textfile: a server archiving with
 * wal-push into its repository and one physical backup, so src/pitr has a window to compute.
 */
const cfg = tempConfigDir();
const repo = join(sandboxRunDir(), `health-window-repo-${process.pid}`);
let server: SandboxInstance;
let env: Record<string, string>;
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });

async function sql(text: string): Promise<pg.QueryResultRow[]> {
  const c = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: 'postgres' });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

/** Writes, switches WAL and waits until wal-push put the segment into the repository. */
async function switchAndArchive(): Promise<string> {
  await sql('CREATE TABLE IF NOT EXISTS w (x int); INSERT INTO w VALUES (1)');
  const name = String((await sql('SELECT pg_walfile_name(pg_switch_wal()) AS name'))[0]!.name);
  for (let i = 0; i < 150; i++) {
    try {
      if (readdirSync(join(repo, 'wal', name.slice(0, 8))).some((f) => archivedSegment(f) === name)) return name;
    } catch {
      // the timeline folder is not there yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`segment ${name} was not archived within 15 s`);
}

beforeAll(async () => {
  mkdirSync(repo, { recursive: true, mode: 0o700 });
  prepareWalDir(repo, serverAccount('postgres'));
  server = await startPostgresSandbox({ archive: { command: archiveCommand(repo) } });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, HEALTH_WIN_PW: server.password };
  const add = await cli(['target', 'add', 'hwin', '--engine', 'postgres', '--port', String(server.port), '--user', server.user, '--dbname', 'postgres', '--repo', repo, '--password-env', 'HEALTH_WIN_PW']);
  expect(add.code, add.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(repo, { recursive: true, force: true });
  cfg.cleanup();
});

describe('health and the recoverable window', () => {
  it('has no window before a physical backup exists', async () => {
    const r = await cli(['health', 'hwin', '--json']);
    const report = JSON.parse(r.stdout) as HealthReport;
    expect(report.window).toBeUndefined();
    expect(report.metrics.windowStart).toBeNull();
  });

  it('reports the window and exports it to Prometheus once a base backup and archived WAL exist', async () => {
    const b = await cli(['backup', 'hwin', '--kind', 'physical']);
    expect(b.code, b.stderr).toBe(0);
    await switchAndArchive();
    const prom = join(cfg.dir, 'hwin.prom');
    const r = await cli(['health', 'hwin', '--json', '--prom', prom]);
    expect(r.code, r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as HealthReport;
    expect(report.window, JSON.stringify(report.checks)).toBeDefined();
    const { start, end } = report.window!;
    expect(Date.parse(start)).toBeLessThanOrEqual(Date.parse(end));
    expect(Date.parse(end)).toBeLessThanOrEqual(Date.now());
    const fam = parsePromText(readFileSync(prom, 'utf8'));
    const v = (name: string) => fam.get(name)?.samples.find((s) => s.labels.target === 'hwin')?.value;
    expect(v('dbdrill_recoverable_window_start_timestamp_seconds')).toBe(Date.parse(start) / 1000);
    expect(v('dbdrill_recoverable_window_end_timestamp_seconds')).toBe(Date.parse(end) / 1000);
    expect(v('dbdrill_health_status')).toBe(0);
  });

  it('takes another window provider, and reuses a computed window instead of recomputing it each sample', async () => {
    let calls = 0;
    const target = { name: 'hwin', engine: 'postgres' as const, host: server.host, port: server.port, user: server.user, dbname: 'postgres', repo, password: server.password };
    const s = healthSamplerFor(target, {
      window: async () => {
        calls++;
        return { start: '2026-01-01T00:00:00.000Z', end: '2026-01-02T00:00:00.000Z' };
      },
    });
    try {
      const a = await s.sample();
      await s.sample();
      expect(a.window).toEqual({ start: '2026-01-01T00:00:00.000Z', end: '2026-01-02T00:00:00.000Z' });
      expect(a.metrics.windowEnd).toBe(Date.parse('2026-01-02T00:00:00Z') / 1000);
      expect(calls).toBe(1);
    } finally {
      await s.close();
    }
    const none = healthSamplerFor(target, { window: null });
    try {
      expect((await none.sample()).window).toBeUndefined();
    } finally {
      await none.close();
    }
  });
});
