import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/drill/report.js';
import { startPostgresSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { freePort } from '../src/sandbox/ports.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { PgbackrestPostgres, RestoredServers } from './helpers/pgbackrest-pg.js';
import { sandboxRunDir } from './helpers/sandbox.js';

/**
 * Copies of a pgBackRest target (issue 17 on issue 14's method), on a real PostgreSQL 15 and
 * pgBackRest 2.45: `dbdrill copy` sends pgBackRest's repository (sets and archive) to a second
 * directory; with the primary repository gone, restore and drill --from the copy restore the
 * full+incr chain and replay to the point with exact rows.
 */
const NAME = 'pgk';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('copies of a pgBackRest target (real PostgreSQL 15, pgBackRest 2.45)', () => {
  let server: SandboxInstance;
  let db: PgbackrestPostgres;
  let repo: string;
  let nas: string;
  const cfg = tempConfigDir();
  const restores = new RestoredServers(NAME);
  let env: Record<string, string>;
  const cli = (args: string[]) => runCli(args, { env, timeoutMs: 240_000 });
  let mark: Date;

  beforeAll(async () => {
    repo = join(sandboxRunDir(), `${NAME}-repo-${process.pid}`);
    nas = join(sandboxRunDir(), `${NAME}-nas-${process.pid}`);
    mkdirSync(nas, { recursive: true, mode: 0o700 });
    server = await startPostgresSandbox({ sampleData: false, archive: { command: '/bin/true' } });
    db = new PgbackrestPostgres(server, { name: NAME, engine: 'postgres', host: server.host, port: server.port, user: server.user, dbname: server.dbname, repo, password: server.password });
    env = { DBDRILL_CONFIG_DIR: cfg.dir, PGK_PW: server.password };
    await db.sql('CREATE TABLE kept (phase text, n int)');
    const add = await cli(['target', 'add', NAME, '--engine', 'postgres', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', server.dbname, '--repo', repo, '--password-env', 'PGK_PW', '--method', 'pgbackrest']);
    expect(add.code, add.stderr).toBe(0);
    const a = await cli(['archiving', 'enable', NAME, '--apply']);
    expect(a.code, a.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await restores.stopAll();
    if (!existsSync(repo) && existsSync(`${repo}.gone`)) renameSync(`${repo}.gone`, repo);
    await db?.stop();
    rmSync(nas, { recursive: true, force: true });
    cfg.cleanup();
  }, 120_000);

  it('copy sends the pgBackRest sets and archive; with the primary gone, restore and drill --from the copy are exact', async () => {
    await db.sql(`INSERT INTO kept SELECT 'A', g FROM generate_series(1, 300) g`);
    expect((await cli(['backup', NAME, '--kind', 'physical'])).code).toBe(0);
    await db.sql(`INSERT INTO kept SELECT 'B', g FROM generate_series(1, 200) g`);
    expect((await cli(['backup', NAME, '--kind', 'physical', '--type', 'incr'])).code).toBe(0);
    // A set is restorable from the second after its stop (pgBackRest records whole seconds).
    await sleep(1100);
    await db.sql(`INSERT INTO kept SELECT 'C', g FROM generate_series(1, 100) g`);
    await sleep(50);
    mark = await db.now();
    await sleep(50);
    await db.sql(`INSERT INTO kept VALUES ('after', 0)`);
    await db.sql('SELECT pg_switch_wal()');
    for (let i = 0; i < 100; i++) {
      const w = JSON.parse((await cli(['window', NAME, '--json'])).stdout) as { to?: string };
      if (w.to && new Date(w.to).getTime() > mark.getTime()) break;
      await sleep(300);
    }
    const sets = (JSON.parse((await cli(['catalog', NAME, '--json'])).stdout) as { backups: { id: string }[] }).backups.map((b) => b.id);
    expect(sets).toHaveLength(2);

    expect((await cli(['target', 'copy-add', NAME, 'nas', '--dest', nas])).code).toBe(0);
    const c = await cli(['copy', NAME, '--json']);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    const report = (JSON.parse(c.stdout) as { copies: { sent: number; failed: unknown[] }[] }).copies[0]!;
    expect(report.failed).toEqual([]);
    expect(report.sent).toBeGreaterThan(10);
    // Both sets and the archive are on the copy, as pgBackRest laid them out.
    for (const id of sets) expect(existsSync(join(nas, 'pgbackrest', 'backup', NAME, id, 'backup.manifest'))).toBe(true);
    expect(readdirSync(join(nas, 'pgbackrest', 'archive', NAME)).length).toBeGreaterThan(0);
    const again = await cli(['copy', NAME, '--json']);
    expect((JSON.parse(again.stdout) as { copies: { sent: number }[] }).copies[0]!.sent).toBe(0);

    // The primary repository is lost.
    renameSync(repo, `${repo}.gone`);
    try {
      const into = restores.dir();
      const port = await freePort();
      const r = await cli(['restore', NAME, '--from', 'nas', '--to', mark.toISOString(), '--into', into, '--port', String(port), '--json']);
      expect(r.code, r.stderr).toBe(0);
      const rep = JSON.parse(r.stdout) as { pid: number; plan: { backup: string } };
      restores.track(rep.pid);
      expect(rep.plan.backup).toBe(sets[0]);
      const got = await db.sql<{ phase: string; n: string }>('SELECT phase, count(*) AS n FROM kept GROUP BY phase ORDER BY phase', port);
      expect(Object.fromEntries(got.map((g) => [g.phase, Number(g.n)]))).toEqual({ A: 300, B: 200, C: 100 });
      await restores.stop(rep.pid);

      const d = await cli(['drill', NAME, '--from', 'nas', '--to', mark.toISOString(), '--json']);
      const drill = JSON.parse(d.stdout) as DrillReport;
      expect(drill.status, drill.error).toBe('passed');
      expect(drill.from).toMatchObject({ copy: 'nas' });
      expect(drill.steps.find((s) => s.name === 'restore base')!.detail).toMatch(/from 2 set\(s\)$/);
    } finally {
      // The drill wrote its report where the primary was.
      rmSync(repo, { recursive: true, force: true });
      renameSync(`${repo}.gone`, repo);
    }
  }, 480_000);
});
