import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetStore } from '../src/config/store.js';
import type { DrillReport } from '../src/drill/report.js';
import { startPostgresSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { PgbackrestPostgres } from './helpers/pgbackrest-pg.js';
import { sandboxRunDir } from './helpers/sandbox.js';

/**
 * pgBackRest sets drilled and verified by restoring them, through the built CLI, on a real
 * PostgreSQL 15 and pgBackRest 2.45: backup --jobs as process-max, a drill of a full+diff+incr
 * chain to a point in time with the rows checked and RTO split into transfer and replay,
 * verify --restore of the newest set, and a damaged file in the chain's full named by both.
 */
const NAME = 'pgd';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row { id: string; type: string; reference?: string[] }
interface VerifyOut { backup: string; ok: boolean; checks: { method: string; ok: boolean; detail: string }[] }

describe('pgBackRest drills and verify --restore (real PostgreSQL 15, pgBackRest 2.45)', () => {
  let server: SandboxInstance;
  let db: PgbackrestPostgres;
  let repo: string;
  const cfg = tempConfigDir();
  let env: Record<string, string>;
  const cli = (args: string[]) => runCli(args, { env, timeoutMs: 240_000 });
  let mark: Date;
  let rows: Row[] = [];

  beforeAll(async () => {
    repo = join(sandboxRunDir(), `${NAME}-repo-${process.pid}`);
    server = await startPostgresSandbox({ sampleData: true, archive: { command: '/bin/true' } });
    db = new PgbackrestPostgres(server, { name: NAME, engine: 'postgres', host: server.host, port: server.port, user: server.user, dbname: server.dbname, repo, password: server.password });
    env = { DBDRILL_CONFIG_DIR: cfg.dir, PGD_PW: server.password };
    await db.sql('CREATE TABLE pgd_rows (phase text, n int)');
    new TargetStore(cfg.dir).add({
      name: NAME, engine: 'postgres', host: '127.0.0.1', port: server.port, user: server.user, dbname: server.dbname, repo, passwordEnv: 'PGD_PW',
      checks: [{ name: 'rows up to the incr', sql: 'SELECT count(*) FROM pgd_rows', expect: '= 400' }],
    });
    const e = await cli(['target', 'edit', NAME, '--method', 'pgbackrest']);
    expect(e.code, e.stderr).toBe(0);
    const a = await cli(['archiving', 'enable', NAME, '--apply']);
    expect(a.code, a.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await db?.stop();
    cfg.cleanup();
  }, 120_000);

  it('backup --jobs N runs pgBackRest with process-max N for that backup; a native target still refuses --jobs on a physical backup', async () => {
    await db.sql(`INSERT INTO pgd_rows SELECT 'A', g FROM generate_series(1, 100) g`);
    const r = await cli(['backup', NAME, '--kind', 'physical', '--jobs', '3']);
    expect(r.code, r.stderr).toBe(0);
    const log = readFileSync(join(repo, 'pgbackrest-state', 'log', `${NAME}-backup.log`), 'utf8');
    const begin = log.split('\n').filter((l) => l.includes('backup command begin'));
    expect(begin).toHaveLength(1);
    expect(begin[0]).toContain('--process-max=3');
    // The conf keeps its own value: --jobs is for that run only.
    expect(readFileSync(join(repo, 'pgbackrest-state', 'pgbackrest.conf'), 'utf8')).toContain('process-max=2\n');

    const nat = await cli(['target', 'add', 'nat', '--engine', 'postgres', '--port', '1', '--repo', join(repo, '..', `nat-${process.pid}`)]);
    expect(nat.code, nat.stderr).toBe(0);
    const refused = await cli(['backup', 'nat', '--kind', 'physical', '--jobs', '3']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe('dbdrill: --jobs does not apply to a physical PostgreSQL backup: pg_basebackup copies over one connection; drop --jobs, or use --kind logical for a parallel pg_dump.');
  }, 240_000);

  it('a drill restores the full+diff+incr chain with pgBackRest, replays to the point, checks the rows and splits RTO', async () => {
    for (const [phase, type] of [['B', 'diff'], ['C', 'incr']] as const) {
      await db.sql(`INSERT INTO pgd_rows SELECT '${phase}', g FROM generate_series(1, 100) g`);
      const r = await cli(['backup', NAME, '--kind', 'physical', '--type', type]);
      expect(r.code, r.stderr).toBe(0);
    }
    // A set is restorable from the second after its stop (pgBackRest records whole seconds).
    await sleep(1100);
    // Rows after the incr that only WAL replay brings back, then some after the drill's point.
    await db.sql(`INSERT INTO pgd_rows SELECT 'D', g FROM generate_series(1, 100) g`);
    await sleep(50);
    mark = await db.now();
    await sleep(50);
    await db.sql(`INSERT INTO pgd_rows SELECT 'E', g FROM generate_series(1, 100) g`);
    await db.sql('SELECT pg_switch_wal()');
    rows = (JSON.parse((await cli(['catalog', NAME, '--json'])).stdout) as { backups: Row[] }).backups;
    expect(rows.map((b) => b.type)).toEqual(['incr', 'diff', 'full']);
    // Wait until the archive reaches past the mark.
    for (let i = 0; i < 100; i++) {
      const w = JSON.parse((await cli(['window', NAME, '--json'])).stdout) as { to?: string };
      if (w.to && new Date(w.to).getTime() > mark.getTime()) break;
      await sleep(300);
    }

    const r = await cli(['drill', NAME, '--to', mark.toISOString(), '--rto', '1h', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.status, report.error).toBe('passed');
    expect(report.backup).toBe(rows[0]!.id);
    const step = (n: string) => report.steps.find((s) => s.name === n)!;
    expect(step('verify backup files').detail).toBe(`pgbackrest verify: every file of ${rows[2]!.id}, ${rows[1]!.id}, ${rows[0]!.id} matches its checksum`);
    expect(step('restore base').detail).toMatch(/^pgBackRest restored .+ from 3 set\(s\)$/);
    expect(step('restore base').bytes).toBeGreaterThan(1_000_000);
    expect(step('replay WAL').status).toBe('done');
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['replay reached the planned point', true], ['accepts connections', true], ['rows up to the incr', true], ['pg_amcheck', true],
    ]);
    expect(report.rto!.transferSeconds).toBeGreaterThan(0);
    expect(report.rto!.replaySeconds).toBeGreaterThan(0);
    expect(report.rto!.seconds).toBeGreaterThanOrEqual(report.rto!.transferSeconds + report.rto!.replaySeconds);
    expect(step('tear down').status).toBe('done');
    // The report is kept in the target's repository.
    expect(readdirSync(join(repo, 'drills'))).toContain(`${report.id}.json`);
  }, 300_000);

  it('verify --restore restores the newest pgBackRest set into a scratch server, which recovers and passes pg_amcheck', async () => {
    const r = await cli(['verify', NAME, '--restore', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as VerifyOut;
    expect(out.backup).toBe(rows[0]!.id);
    expect(out.checks.map((c) => [c.method, c.ok])).toEqual([['pgbackrest verify', true], ['restore', true], ['pg_amcheck', true]]);
    expect(out.checks[1]!.detail).toMatch(/^pgBackRest restored 3 set\(s\) and the server recovered to the consistent point/);
    const named = await cli(['verify', NAME, '--backup', rows[2]!.id, '--restore', '--json']);
    expect(named.code, named.stdout + named.stderr).toBe(0);
    expect((JSON.parse(named.stdout) as VerifyOut).checks[1]!.detail).toMatch(/^pgBackRest restored 1 set\(s\)/);
    const unknown = await cli(['verify', NAME, '--backup', '20200101-000000F', '--restore']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n').at(-1)).toBe(`dbdrill: Target "${NAME}" has no backup or pgBackRest set "20200101-000000F"; see dbdrill catalog ${NAME}.`);
  }, 300_000);

  it('a damaged file in the full under the incr: verify --restore and the drill name it and restore nothing', async () => {
    const fullDir = join(repo, 'pgbackrest', 'backup', NAME, rows[2]!.id);
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
    const victim = files(join(fullDir, 'pg_data')).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const rel = victim.slice(fullDir.length + 1).replace(/\.zst$/, '');
    const fd = openSync(victim, 'r+');
    const b = Buffer.alloc(1);
    const at = Math.floor(statSync(victim).size / 2);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);

    const v = await cli(['verify', NAME, '--restore', '--json']);
    expect(v.code).toBe(1);
    const out = JSON.parse(v.stdout) as VerifyOut;
    expect(out.checks[0]).toMatchObject({ method: 'pgbackrest verify', ok: false });
    expect(out.checks[0]!.detail).toContain(`${rel} of backup ${rows[2]!.id}`);
    expect(out.checks[1]).toEqual({ method: 'restore', ok: false, detail: 'skipped: pgbackrest verify found damaged files' });

    const d = await cli(['drill', NAME, '--to', mark.toISOString(), '--json']);
    expect(d.code).toBe(1);
    const report = JSON.parse(d.stdout) as DrillReport;
    expect(report.status).toBe('failed');
    expect(report.failedStep).toBe('verify backup files');
    expect(report.error).toContain(`pgBackRest set ${rows[0]!.id} cannot be restored: ${rel} of backup ${rows[2]!.id}`);
    expect(report.steps.find((s) => s.name === 'provision scratch instance')!.status).toBe('skipped');
  }, 300_000);
});
