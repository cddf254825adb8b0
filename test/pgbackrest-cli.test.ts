import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/sandbox/ports.js';
import { startPostgresSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { PgbackrestPostgres, RestoredServers } from './helpers/pgbackrest-pg.js';
import { sandboxRunDir } from './helpers/sandbox.js';

/**
 * pgBackRest as a PostgreSQL method, through the built CLI: target add/edit/show, archiving,
 * full/diff/incr backups, the catalog, the window, point-in-time restore and verify, on a real
 * PostgreSQL 15 and pgBackRest 2.45 started here (pgBackRest's files live under a temp repository).
 */
const NAME = 'pgc';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row { id: string; type: string; prior?: string; reference?: string[]; status: string; startedAt: string; finishedAt?: string; archive?: { start?: string; stop?: string }; lsn?: { start?: string; stop?: string }; sizeBytes: number; delta?: number; repoSize?: number; repoDelta?: number }

describe('pgBackRest method through dbdrill (real PostgreSQL 15, pgBackRest 2.45)', () => {
  let server: SandboxInstance;
  let db: PgbackrestPostgres;
  let repo: string;
  const cfg = tempConfigDir();
  const restores = new RestoredServers(NAME);
  let env: Record<string, string>;
  const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
  const marks: Date[] = [];
  let rows: Row[] = [];

  beforeAll(async () => {
    repo = join(sandboxRunDir(), `${NAME}-repo-${process.pid}`);
    // Archiving on, into nothing yet: `archiving enable` points it at pgBackRest (a reload, no restart).
    server = await startPostgresSandbox({ sampleData: true, archive: { command: '/bin/true' } });
    db = new PgbackrestPostgres(server, { name: NAME, engine: 'postgres', host: server.host, port: server.port, user: server.user, dbname: server.dbname, repo, password: server.password });
    env = { DBDRILL_CONFIG_DIR: cfg.dir, PGC_PW: server.password };
    await db.sql('CREATE TABLE pgc_rows (phase text, n int)');
  }, 120_000);

  afterAll(async () => {
    await restores.stopAll();
    await db?.stop();
    cfg.cleanup();
  }, 120_000);

  const add = (...extra: string[]) =>
    cli(['target', 'add', NAME, '--engine', 'postgres', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', server.dbname, '--repo', repo, '--password-env', 'PGC_PW', ...extra]);

  it('refuses an unknown method and method settings without the method, in one sentence, storing nothing', async () => {
    const bad = await add('--method', 'barman');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('dbdrill: method "barman" is not a PostgreSQL backup method; use --method native or --method pgbackrest.');
    const stray = await add('--process-max', '4');
    expect(stray.code).toBe(2);
    expect(stray.stderr.trim()).toBe('dbdrill: processMax is a setting of the pgbackrest method; add --method pgbackrest or drop --process-max.');
    expect(JSON.parse((await cli(['target', 'list', '--json'])).stdout)).toEqual({ targets: [] });
  });

  it('target add --method pgbackrest writes the conf under the repository (no secret), creates the stanza and target show prints it', async () => {
    const r = await add('--method', 'pgbackrest', '--process-max', '3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`stanza "${NAME}" is ready in ${join(repo, 'pgbackrest')}`);
    expect(r.stdout).toContain(`next: dbdrill archiving enable ${NAME} --apply`);
    const confFile = join(repo, 'pgbackrest-state', 'pgbackrest.conf');
    const conf = readFileSync(confFile, 'utf8');
    for (const line of [`repo1-path=${join(repo, 'pgbackrest')}`, 'compress-type=zst', 'process-max=3', 'archive-async=y', `spool-path=${join(repo, 'pgbackrest-state', 'spool')}`, 'start-fast=y', `[${NAME}]`, `pg1-path=${server.dataDir}`]) {
      expect(conf).toContain(`${line}\n`);
    }
    expect(conf).not.toContain(server.password);
    expect(statSync(confFile).mode & 0o777).toBe(0o600);
    const show = await cli(['target', 'show', NAME]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^method\s+pgbackrest$/m);
    expect(show.stdout).toMatch(/^processes\s+3$/m);
    expect(show.stdout).toContain(`--- ${confFile}\n${conf.trimEnd()}`);
    const json = JSON.parse((await cli(['target', 'show', NAME, '--json'])).stdout) as { target: { method: string; processMax: number }; files: { path: string }[] };
    expect(json.target).toMatchObject({ method: 'pgbackrest', processMax: 3 });
    expect(json.files.map((f) => f.path)).toEqual([confFile]);
  }, 120_000);

  it('target edit --checkpoint spread rewrites start-fast; archiving enable sets archive-push and check passes', async () => {
    const e = await cli(['target', 'edit', NAME, '--checkpoint', 'spread']);
    expect(e.code, e.stderr).toBe(0);
    expect(readFileSync(join(repo, 'pgbackrest-state', 'pgbackrest.conf'), 'utf8')).toContain('start-fast=n\n');
    const back = await cli(['target', 'edit', NAME, '--checkpoint', 'fast']);
    expect(back.code, back.stderr).toBe(0);
    expect(readFileSync(join(repo, 'pgbackrest-state', 'pgbackrest.conf'), 'utf8')).toContain('start-fast=y\n');

    const a = await cli(['archiving', 'enable', NAME, '--apply', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const plan = JSON.parse(a.stdout) as { archiveCommand: string; applied: boolean; warnings: string[] };
    expect(plan.archiveCommand).toMatch(/pgbackrest --config=\S+pgbackrest\.conf --config-include-path=\S+ --stanza=pgc archive-push %p$/);
    expect(plan).toMatchObject({ applied: true, notes: ['pgbackrest check passed: WAL reaches the stanza'] });
    expect(a.stderr).not.toMatch(/WARN/);
    const set = await db.sql<{ c: string }>(`SELECT current_setting('archive_command') AS c`);
    expect(set[0]!.c).toBe(plan.archiveCommand);
    const wrong = await cli(['archiving', 'enable', NAME, '--compress', 'zstd']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim()).toMatch(/^dbdrill: --compress and --batch are wal-push's; target "pgc" archives with pgBackRest/);
  }, 120_000);

  it('refuses an incr before any full; full → diff → incr with progress; the catalog lists type, prior, WAL, LSNs and sizes', async () => {
    // --type alone means a physical backup: the everyday line of a pgBackRest shop.
    const early = await cli(['backup', NAME, '--type', 'incr']);
    expect(early.code).toBe(2);
    expect(early.stderr.trim().split('\n').at(-1)).toBe(`dbdrill: There is no full pgBackRest backup of "${NAME}" for an incr to build on; take one with --type full first.`);

    const taken: Row[] = [];
    for (const [phase, type] of [['A', 'full'], ['B', 'diff'], ['C', 'incr']] as const) {
      // pgBackRest records a set's stop time in whole seconds, and dbdrill counts a set
      // consistent only from the second after it: a mark in the same second as the previous
      // set's stop is rightly refused as before the window (a CI run hit that second).
      if (taken.length > 0) await sleep(1050 - (Date.now() % 1000));
      await db.sql(`INSERT INTO pgc_rows SELECT '${phase}', g FROM generate_series(1, 100) g`);
      marks.push(await db.now());
      await sleep(50);
      const r = await cli(['backup', NAME, ...(type === 'full' ? ['--kind', 'physical'] : ['--type', type])]);
      expect(r.code, r.stderr).toBe(0);
      // Progress as for native backups: pgBackRest's per-file lines become byte progress.
      expect(r.stderr).toMatch(/copying/);
      const json = await cli(['catalog', NAME, '--json']);
      taken.push((JSON.parse(json.stdout) as { backups: Row[] }).backups[0]!);
      expect(r.stdout).toContain(`Backup ${taken.at(-1)!.id} complete: physical ${type}`);
    }
    await db.sql(`INSERT INTO pgc_rows VALUES ('D', 1)`);
    const cat = await cli(['catalog', NAME, '--json']);
    rows = (JSON.parse(cat.stdout) as { backups: Row[] }).backups;
    const [incr, diff, full] = rows;
    expect(rows.map((b) => b.type)).toEqual(['incr', 'diff', 'full']);
    expect(rows.map((b) => b.id)).toEqual(taken.map((t) => t.id).reverse());
    expect(full!.prior).toBeUndefined();
    expect(diff!.prior).toBe(full!.id);
    expect(incr!.prior).toBe(diff!.id);
    expect(incr!.reference).toEqual([full!.id, diff!.id]);
    for (const b of rows) {
      expect(b.status).toBe('complete');
      expect(b.archive!.start).toMatch(/^[0-9A-F]{24}$/);
      expect(b.archive!.stop! >= b.archive!.start!).toBe(true);
      expect(b.lsn!.start).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(b.repoSize).toBeGreaterThan(0);
      expect(b.repoDelta).toBeGreaterThan(0);
      expect(b.finishedAt! >= b.startedAt).toBe(true);
    }
    // A diff copies far less than the full it builds on.
    expect(diff!.delta!).toBeLessThan(full!.delta! / 2);
    const text = await cli(['catalog', NAME]);
    expect(text.stdout).toMatch(new RegExp(`^${diff!.id}\\s+physical\\s+diff\\s+${full!.id}\\s+complete`, 'm'));
  }, 300_000);

  it('a backup dbdrill cannot connect for reports the connect sentence, whatever pgBackRest (started beside the connect) said, and adds no set', async () => {
    const before = (JSON.parse((await cli(['catalog', NAME, '--json'])).stdout) as { backups: Row[] }).backups.map((b) => b.id);
    const r = await runCli(['backup', NAME, '--kind', 'physical'], { env: { ...env, PGC_PW: 'not-the-password' }, timeoutMs: 180_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`dbdrill: 127.0.0.1:${server.port} refused user "${server.user}" (wrong password or no access); check the password in $PGC_PW.`);
    const after = (JSON.parse((await cli(['catalog', NAME, '--json'])).stdout) as { backups: Row[] }).backups.map((b) => b.id);
    expect(after).toEqual(before);
  }, 120_000);

  it('--type on a native PostgreSQL target gets one sentence before connecting', async () => {
    const n = await cli(['target', 'add', 'nat', '--engine', 'postgres', '--port', '1', '--repo', join(repo, '..', `nat-${process.pid}`)]);
    expect(n.code, n.stderr).toBe(0);
    const r = await cli(['backup', 'nat', '--kind', 'physical', '--type', 'diff']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('dbdrill: --type diff needs a method that takes differential backups; target "nat" uses pg_basebackup, which takes full ones only: drop --type, or switch the target with dbdrill target edit nat --method pgbackrest.');
  });

  it('window reads the pgBackRest archive; restore --to picks the set, restores with pgBackRest and holds exactly the rows up to the time', async () => {
    const last = (await db.sql<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name'))[0]!.name;
    let win: { from: string; to: string; gaps: unknown[] } | undefined;
    for (let i = 0; i < 100; i++) {
      const w = await cli(['window', NAME, '--json']);
      expect(w.code, w.stderr).toBe(0);
      win = JSON.parse(w.stdout) as typeof win;
      if (win!.to && new Date(win!.to).getTime() > marks[2]!.getTime()) break;
      await sleep(200);
    }
    expect(last).toMatch(/^[0-9A-F]{24}$/);
    expect(win!.gaps).toEqual([]);
    expect(new Date(win!.to).getTime()).toBeGreaterThan(marks[2]!.getTime());

    const into = restores.dir();
    const port = await freePort();
    const r = await cli(['restore', NAME, '--to', marks[1]!.toISOString(), '--into', into, '--port', String(port), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { plan: { backup: string }; pid: number; reached: { proven: string } };
    restores.track(report.pid);
    // The diff was taken after the B mark: the newest set consistent before it is the full.
    expect(report.plan.backup).toBe(rows[2]!.id);
    const got = await db.sql<{ phase: string; n: string }>('SELECT phase, count(*) AS n FROM pgc_rows GROUP BY phase ORDER BY phase', port);
    expect(Object.fromEntries(got.map((g) => [g.phase, Number(g.n)]))).toEqual({ A: 100, B: 100 });
    const auto = readFileSync(join(into, 'postgresql.auto.conf'), 'utf8');
    expect(auto).toContain("archive_mode = 'off'");
    expect(auto).toContain("recovery_target_action = 'promote'");
    expect(auto).toMatch(/restore_command = '.*archive-get %f "%p"'/);
    await restores.stop(report.pid);

    // The refusals native restores make, before anything is written.
    const p2 = await freePort();
    const fresh = join(sandboxRunDir(), `${NAME}-never-${process.pid}`);
    const cases: [string[], RegExp][] = [
      [['--to', '2026-01-01 10:00:00'], /zone/],
      [['--to', new Date(Date.parse(rows[2]!.startedAt) - 3_600_000).toISOString()], /before/],
      [['--to', new Date(Date.now() + 3_600_000).toISOString()], /archive|after|past|later/],
    ];
    for (const [args, why] of cases) {
      const x = await cli(['restore', NAME, ...args, '--into', fresh, '--port', String(p2)]);
      expect(x.code, x.stdout).toBe(2);
      // The steps run so far, then the refusal: one line.
      const refusal = x.stderr.trim().split('\n').at(-1)!;
      expect(refusal).toMatch(/^dbdrill: /);
      expect(refusal).toMatch(why);
      expect(existsSync(fresh)).toBe(false);
    }
    mkdirSync(fresh);
    readdirSync(fresh);
    const used = join(fresh, 'x');
    mkdirSync(used);
    const occupied = await cli(['restore', NAME, '--to', marks[2]!.toISOString(), '--into', fresh, '--port', String(p2)]);
    expect(occupied.code).toBe(2);
    expect(occupied.stderr).toMatch(/not empty|exists/);
    const busy = await cli(['restore', NAME, '--to', marks[2]!.toISOString(), '--into', join(fresh, 'y'), '--port', String(server.port)]);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(/port/);
    rmSync(fresh, { recursive: true, force: true });
  }, 300_000);

  it('verify runs pgbackrest verify plus dbdrill checks; a flipped byte in the repository is named and exits 1', async () => {
    const ok = await cli(['verify', NAME]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK\s+pgbackrest repository: 3 backup\(s\)/m);

    const diffDir = join(repo, 'pgbackrest', 'backup', NAME, rows[1]!.id);
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
    const victim = files(join(diffDir, 'pg_data')).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const rel = victim.slice(diffDir.length + 1).replace(/\.zst$/, '');
    const flip = () => {
      const fd = openSync(victim, 'r+');
      const b = Buffer.alloc(1);
      const at = Math.floor(statSync(victim).size / 2);
      readSync(fd, b, 0, 1, at);
      b[0] = b[0]! ^ 0xff;
      writeSync(fd, b, 0, 1, at);
      closeSync(fd);
    };
    flip();
    try {
      const bad = await cli(['verify', NAME]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(`FAIL Backup ${rows[1]!.id}: ${rel}`);
      expect(bad.stdout).toContain(`FAIL Backup ${rows[0]!.id} cannot be restored: it references backup ${rows[1]!.id}, which is damaged.`);
      expect(bad.stdout).toMatch(/FAILED verification/);
    } finally {
      flip();
    }
  }, 300_000);

  it('target add of another cluster onto this stanza is refused naming both system ids, and the target is not stored', async () => {
    const other = await startPostgresSandbox({ sampleData: false });
    const cfg2 = tempConfigDir();
    try {
      const before = readFileSync(join(repo, 'pgbackrest-state', 'pgbackrest.conf'), 'utf8');
      const r = await runCli(
        ['target', 'add', NAME, '--engine', 'postgres', '--host', '127.0.0.1', '--port', String(other.port), '--user', other.user, '--dbname', other.dbname, '--repo', repo, '--password-env', 'OTHER_PW', '--method', 'pgbackrest'],
        { env: { DBDRILL_CONFIG_DIR: cfg2.dir, OTHER_PW: other.password }, timeoutMs: 120_000 },
      );
      expect(r.code).toBe(2);
      const ours = (await db.sql<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()'))[0]!.id;
      const theirs = (await new PgbackrestPostgres(other, { ...db.target, port: other.port }).sql<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()', other.port, other.dbname))[0]!.id;
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `dbdrill: The pgBackRest stanza "${NAME}" in ${join(repo, 'pgbackrest')} belongs to another cluster (system id ${ours}), not to this target's server (system id ${theirs}); give the target a repository of its own, or remove that stanza if its cluster is gone.`,
      );
      expect(readFileSync(join(repo, 'pgbackrest-state', 'pgbackrest.conf'), 'utf8')).toBe(before);
      expect(JSON.parse((await runCli(['target', 'list', '--json'], { env: { DBDRILL_CONFIG_DIR: cfg2.dir } })).stdout)).toEqual({ targets: [] });
    } finally {
      await other.stop();
      cfg2.cleanup();
    }
  }, 120_000);

  it('prune hands the policy to pgBackRest expire: a full goes with its diff and incr, the newest chain stays', async () => {
    const first = rows.map((b) => b.id);
    const full2 = await cli(['backup', NAME, '--kind', 'physical']);
    expect(full2.code, full2.stderr).toBe(0);
    expect((await cli(['policy', 'set', NAME, '--keep-full', '1', '--gfs', '7d'])).code).toBe(0);
    const dry = await cli(['prune', NAME, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = (JSON.parse(dry.stdout) as { method: { removed: string[]; wouldRemove: string[] } }).method;
    expect(plan.removed).toEqual([]);
    expect([...plan.wouldRemove].sort()).toEqual([...first].sort());
    expect(dry.stderr).toContain(`pgbackrest would expire set ${first.at(-1)}`);
    expect((JSON.parse((await cli(['catalog', NAME, '--json'])).stdout) as { backups: Row[] }).backups).toHaveLength(4);

    const pr = await cli(['prune', NAME, '--json']);
    expect(pr.code, pr.stderr).toBe(0);
    const rep = JSON.parse(pr.stdout) as { method: { tool: string; removed: string[]; unsupported: string[] }; removed: { backups: string[] } };
    expect(rep.method.tool).toBe('pgbackrest expire');
    expect([...rep.method.removed].sort()).toEqual([...first].sort());
    expect(rep.removed.backups).toEqual(expect.arrayContaining(first));
    // What pgBackRest cannot express is said, not guessed.
    expect(rep.method.unsupported).toEqual(['--gfs 7d is not applied to pgBackRest sets (its expire has no grandfather-father-son rule)']);
    const after = (JSON.parse((await cli(['catalog', NAME, '--json'])).stdout) as { backups: Row[] }).backups;
    expect(after.map((b) => b.type)).toEqual(['full']);
    expect(first).not.toContain(after[0]!.id);
    expect((await cli(['verify', NAME])).code).toBe(0);
  }, 300_000);
});
