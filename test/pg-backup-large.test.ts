import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackup } from '../src/ops/backup.js';
import type { JobEvent } from '../src/ops/job.js';
import type { Manifest } from '../src/repo/manifest.js';
import { listProcesses } from '../src/runner/process.js';
import { startPostgresSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { CLI, runCli, tempConfigDir } from './helpers/cli.js';
import { withPg } from './helpers/sandbox.js';

/**
 * Backups of a database big enough to watch and to interrupt: the progress a physical backup
 * reports, and runs that go wrong halfway (Ctrl-C during pg_basebackup's copy, a repository disk
 * that fills up, the server dropping the tool's connection), each of which must end as a failed
 * manifest with the reason, no partial data, and exit 1. A server of this file's own holds a table
 * of about 1 GB, so the tools are still busy when the test strikes (the suite's shared
 * server stays small).
 */
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
const fullRepo = join(cfg.dir, 'full');
const env: Record<string, string> = { DBDRILL_CONFIG_DIR: cfg.dir };
let server: SandboxInstance | undefined;
let mounted = false;
let clusterBytes = 0;

beforeAll(async () => {
  server = await startPostgresSandbox({});
  env.BULK_PW = server.password;
  // The Job API runs in this process and reads the password from here.
  process.env.BULK_PW = server.password;
  await withPg(server, (c) => c.query('CREATE DATABASE bulk'));
  await withPg(
    server,
    async (c) => {
      // ~1 GB of rows that gzip cannot shrink to nothing (md5 text): on a quiet machine 530 MB
      // copied from the page cache in under 2 s, fewer than pg_basebackup's once-a-second
      // progress reports the progress test reads.
      await c.query(`CREATE TABLE big AS SELECT g AS id, md5(g::text) || repeat(md5((g * 7)::text), 9) AS pad FROM generate_series(1, 3000000) g`);
      await c.query('CHECKPOINT');
      clusterBytes = Number((await c.query<{ n: string }>('SELECT sum(pg_database_size(datname))::text AS n FROM pg_database')).rows[0]!.n);
    },
    { database: 'bulk' },
  );
  mkdirSync(fullRepo, { mode: 0o700 });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', fullRepo]);
  mounted = true;
  for (const [name, dir] of [['bulk', repo], ['full', fullRepo]] as const) {
    const add = await cli(['target', 'add', name, '--engine', 'postgres', '--host', server.host, '--port', String(server.port), '--user', server.user, '--dbname', 'bulk', '--repo', dir, '--password-env', 'BULK_PW']);
    expect(add.code, add.stderr).toBe(0);
  }
}, 240_000);

afterAll(async () => {
  if (mounted) {
    try {
      execFileSync('umount', [fullRepo]);
    } catch {
      execFileSync('umount', ['-l', fullRepo]);
    }
  }
  await server?.stop();
  delete process.env.BULK_PW;
  cfg.cleanup();
});

function cli(args: string[]) {
  return runCli(args, { env, timeoutMs: 180_000 });
}

describe('progress of a physical backup (Job API)', () => {
  it('reports "waiting for checkpoint", then copying with done, total, rate and ETA', async () => {
    const job = startBackup(cfg.dir, 'bulk', { kind: 'physical', checkpoint: 'fast' });
    const events: JobEvent[] = [];
    job.on((e) => events.push(e));
    const m = await job.result;
    expect(m.status).toBe('complete');

    const progress = events.filter((e): e is Extract<JobEvent, { type: 'progress' }> => e.type === 'progress');
    const phases = progress.map((e) => e.phase).filter((p, i, all) => p !== all[i - 1]);
    expect(phases.slice(0, 2)).toEqual(['waiting for checkpoint', 'copying']);
    expect(phases).toContain('wal');

    const copying = progress.filter((e) => e.phase === 'copying' && e.done !== undefined);
    expect(copying.length).toBeGreaterThanOrEqual(3);
    for (const e of copying) {
      expect(e.unit).toBe('bytes');
      expect(e.total).toBeGreaterThan(clusterBytes * 0.9);
      expect(e.done).toBeLessThanOrEqual(e.total!);
    }
    const done = copying.map((e) => e.done!);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(done.at(-1)).toBe(copying.at(-1)!.total);

    // A rate in bytes/s and an ETA that follows from it, while the copy was under way.
    const rated = copying.filter((e) => e.rate !== undefined && e.rate > 0 && e.done! < e.total!);
    expect(rated.length, JSON.stringify(copying)).toBeGreaterThanOrEqual(1);
    for (const e of rated) {
      expect(e.rate).toBeGreaterThan(1 << 20);
      expect(e.etaSeconds).toBeCloseTo((e.total! - e.done!) / e.rate!, 3);
    }
    // The ETA is about the copy, not the whole run: it is never more than the run took.
    const seconds = (Date.parse(m.finishedAt!) - Date.parse(m.startedAt)) / 1000;
    for (const e of rated) expect(e.etaSeconds).toBeLessThan(seconds);
    const tar = m.files.find((f) => f.path === 'base/base.tar')!;
    expect(Math.abs(tar.bytes - done.at(-1)!) / tar.bytes).toBeLessThan(0.05);

    // base.tar was hashed while pg_basebackup wrote it; a fresh read must agree.
    const v = await cli(['verify', 'bulk', '--backup', m.id]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toContain('OK   sha256: 3 file(s) match their checksums');
  });
});

describe('a physical backup interrupted mid-copy', () => {
  it('Ctrl-C of dbdrill stops pg_basebackup, marks the backup failed and removes the partial copy', async () => {
    const run = spawnCli(['backup', 'bulk', '--kind', 'physical', '--json']);
    const { id } = await waitForRunning(repo, run.child.pid!);
    const tar = join(repo, 'backups', id, 'base', 'base.tar');
    await waitFor(() => (run.stderr().includes('copying') && sizeOf(tar) > 16 << 20 ? true : undefined), 'pg_basebackup copying');
    const copied = sizeOf(tar);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(1);

    // The interrupt landed in the copy, not after it.
    expect(copied).toBeLessThan(clusterBytes);
    expect(run.stderr()).toContain('FAIL base backup: pg_basebackup was stopped because the run was cancelled.');
    expect(run.stderr()).not.toContain('OK base backup');
    expect((JSON.parse(run.stdout()) as { error: { backup: string } }).error.backup).toBe(id);
    const man = readManifest(repo, id);
    expect(man).toMatchObject({ status: 'failed', error: 'cancelled (SIGINT)', files: [], sizeBytes: 0 });
    expect(man.tool).toMatchObject({ name: 'pg_basebackup', argv: expect.arrayContaining(['--pgdata', join(repo, 'backups', id, 'base')]) });
    expect(man.owner).toBeUndefined();
    expect(readdirSync(join(repo, 'backups', id))).toEqual(['manifest.json']);
    expect(toolsWritingInto(repo)).toEqual([]);
    // The server lets go of the backup too: no WAL sender is left streaming to nobody.
    await waitFor(async () => ((await walSenders()) === 0 ? true : undefined), 'the WAL senders to end');
  });
});

describe('a repository whose disk fills up', () => {
  it.each(['logical', 'physical'] as const)('a %s backup fails naming "no space" and leaves nothing partial behind', async (kind) => {
    const r = await cli(['backup', 'full', '--kind', kind, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const id = (JSON.parse(r.stdout) as { error: { backup: string } }).error.backup;
    expect(r.stderr).toMatch(new RegExp(`^dbdrill: Backup ${id} failed: no space left on the disk of the repository ${fullRepo} \\(.*No space left on device.*\\); free space there or give the target a --repo on a larger disk\\.?$`, 'm'));
    const man = readManifest(fullRepo, id);
    expect(man.status).toBe('failed');
    expect(man.error).toMatch(/^no space left on the disk of the repository .*No space left on device/);
    expect(man.tool.name).toBe(kind === 'logical' ? 'pg_dump' : 'pg_basebackup');
    expect(readdirSync(join(fullRepo, 'backups', id))).toEqual(['manifest.json']);
    // Nothing partial left: the disk is empty again but for repo.json and the manifests.
    const fs = statfsSync(fullRepo);
    expect((fs.blocks - fs.bfree) * fs.bsize).toBeLessThan(64 * 1024);
    expect(toolsWritingInto(fullRepo)).toEqual([]);
  });

  it('the catalog holds only the failed runs, never a complete one', async () => {
    const cat = JSON.parse((await cli(['catalog', 'full', '--json'])).stdout) as { backups: { status: string; error?: string }[] };
    expect(cat.backups.map((b) => b.status)).toEqual(['failed', 'failed']);
    expect(cat.backups.every((b) => /no space left/.test(b.error ?? ''))).toBe(true);
  });
});

describe('a backup whose connection the server drops', () => {
  it('pg_dump: its session terminated mid-dump fails the backup with the reason', async () => {
    const run = spawnCli(['backup', 'bulk', '--kind', 'logical', '--json']);
    const { id } = await waitForRunning(repo, run.child.pid!);
    const pid = await waitFor(async () => sessionOf('pg_dump', 'COPY %'), 'pg_dump copying the table');
    await withPg(server!, (c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toContain('FAIL dump: pg_dump exited with code 1');
    const man = readManifest(repo, id);
    expect(man.status).toBe('failed');
    expect(man.error).toMatch(/^pg_dump exited with code 1: .*(terminating connection due to administrator command|server closed the connection unexpectedly)/);
    expect(readdirSync(join(repo, 'backups', id))).toEqual(['manifest.json']);
    expect(toolsWritingInto(repo)).toEqual([]);
  });

  it('pg_basebackup: its WAL senders terminated mid-copy fail the backup with the reason', async () => {
    const run = spawnCli(['backup', 'bulk', '--kind', 'physical', '--json']);
    const { id } = await waitForRunning(repo, run.child.pid!);
    const tar = join(repo, 'backups', id, 'base', 'base.tar');
    await waitFor(() => (run.stderr().includes('copying') && sizeOf(tar) > 16 << 20 ? true : undefined), 'pg_basebackup copying');
    const killed = await withPg(server!, (c) =>
      c.query<{ pid: number }>(`SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pg_basebackup'`),
    );
    expect(killed.rows.length).toBeGreaterThan(0);
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toContain('FAIL base backup: pg_basebackup exited with code 1');
    const man = readManifest(repo, id);
    expect(man.status).toBe('failed');
    expect(man.error).toMatch(/^pg_basebackup exited with code 1: .*(terminating connection due to administrator command|server closed the connection unexpectedly|could not read COPY data)/);
    expect(readdirSync(join(repo, 'backups', id))).toEqual(['manifest.json']);
    expect(toolsWritingInto(repo)).toEqual([]);
  });

  it('none of these runs left a complete or running backup', async () => {
    const cat = JSON.parse((await cli(['catalog', 'bulk', '--json'])).stdout) as { backups: { status: string }[] };
    // The one complete backup is the progress test's.
    expect(cat.backups.map((b) => b.status).sort()).toEqual(['complete', 'failed', 'failed', 'failed']);
  });
});

function readManifest(root: string, id: string): Manifest {
  return JSON.parse(readFileSync(join(root, 'backups', id, 'manifest.json'), 'utf8')) as Manifest;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The running backup of the dbdrill process `pid`, once its tool is recorded (it is about to start). */
function waitForRunning(root: string, pid: number): Promise<{ id: string; man: Manifest }> {
  return waitFor(() => {
    let ids: string[] = [];
    try {
      ids = readdirSync(join(root, 'backups'));
    } catch {
      return undefined;
    }
    for (const id of ids) {
      try {
        const man = readManifest(root, id);
        if (man.status === 'running' && man.owner?.pid === pid && man.tool.name !== '') return { id, man };
      } catch {
        // not written yet
      }
    }
    return undefined;
  }, `a running manifest owned by ${pid}`);
}

function spawnCli(args: string[]): { child: ChildProcess; exit: Promise<number | string>; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | string>((r) => child.on('close', (code, sig) => r(sig ?? code ?? -1)));
  return { child, exit, stdout: () => out, stderr: () => err };
}

/** Processes whose command line points into the repository: none may outlive a failed run. */
function toolsWritingInto(root: string): string[] {
  return listProcesses().filter((p) => p.pid !== process.pid && p.commandLine.includes(`${root}/`)).map((p) => `${p.pid} ${p.commandLine}`);
}

async function walSenders(): Promise<number> {
  const r = await withPg(server!, (c) => c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'walsender'`));
  return r.rows[0]!.n;
}

async function sessionOf(app: string, queryLike: string): Promise<number | undefined> {
  const r = await withPg(server!, (c) =>
    c.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = 'bulk' AND query LIKE $2`, [app, queryLike]),
  );
  return r.rows[0]?.pid;
}
