import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pgDriver from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/repo/manifest.js';
import { ownerGone, thisProcessOwner } from '../src/ops/interrupted.js';
import { CLI, runCli, tempConfigDir } from './helpers/cli.js';
import { createScratchDb, dropDb, tableFingerprint } from './helpers/pg-scratch-db.js';
import { sharedPostgres, withPg } from './helpers/sandbox.js';

const pg = sharedPostgres();
const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
const env = { DBDRILL_CONFIG_DIR: cfg.dir, TEST_PG_PW: pg.password };
let db = '';
const created: string[] = [];

async function cli(args: string[]) {
  return runCli(args, { env, timeoutMs: 120_000 });
}

function flipByte(file: string, offset: number) {
  const buf = readFileSync(file);
  buf[offset] = buf[offset]! ^ 0xff;
  writeFileSync(file, buf);
}

beforeAll(async () => {
  db = await createScratchDb(pg, 'bk', async (c) => {
    await c.query(`CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2))`);
    await c.query(`INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.25 FROM generate_series(1, 20000) g`);
    await c.query(`CREATE TABLE events (id bigserial PRIMARY KEY, account int REFERENCES accounts, at timestamptz DEFAULT now(), note text)`);
    await c.query(`INSERT INTO events (account, note) SELECT (g % 20000) + 1, repeat('x', g % 50) FROM generate_series(1, 30000) g`);
  });
  created.push(db);
  const add = await cli([
    'target', 'add', 'pgt', '--engine', 'postgres', '--host', pg.host, '--port', String(pg.port), '--user', pg.user,
    '--dbname', db, '--repo', repo, '--password-env', 'TEST_PG_PW',
  ]);
  expect(add.code, add.stderr).toBe(0);
});

afterAll(async () => {
  for (const name of created) await dropDb(pg, name);
  cfg.cleanup();
});

describe('logical backups of PostgreSQL', () => {
  let manifest: Manifest;

  it('dumps into the repository with a complete manifest, checksums and table counts', async () => {
    const r = await cli(['backup', 'pgt', '--kind', 'logical', '--json']);
    expect(r.code, r.stderr).toBe(0);
    manifest = (JSON.parse(r.stdout) as { backup: Manifest }).backup;
    expect(manifest.id).toMatch(/^\d{8}T\d{6}Z-L$/);
    expect(manifest.status).toBe('complete');
    expect(manifest.tables).toEqual([
      expect.objectContaining({ table: 'public.accounts', rows: 20000 }),
      expect.objectContaining({ table: 'public.events', rows: 30000 }),
    ]);
    const onDisk = JSON.parse(readFileSync(join(repo, 'backups', manifest.id, 'manifest.json'), 'utf8')) as Manifest;
    expect(onDisk).toEqual(manifest);
    expect(manifest.files).toHaveLength(1);
    expect(manifest.sizeBytes).toBe(statSync(join(repo, 'backups', manifest.id, 'dump.pgdump')).size);
    // Private files: the dump holds the whole database.
    expect(statSync(join(repo, 'backups', manifest.id, 'dump.pgdump')).mode & 0o777).toBe(0o600);
    expect(statSync(join(repo, 'backups', manifest.id)).mode & 0o777).toBe(0o700);
    // No secret in the recorded argv.
    expect(JSON.stringify(manifest)).not.toContain(pg.password);
    expect(JSON.parse(readFileSync(join(repo, 'repo.json'), 'utf8'))).toMatchObject({ format: 'dbdrill-repo', engine: 'postgres', target: 'pgt' });
  });

  it('restores into a new database with identical contents, leaving the source alone', async () => {
    const copy = `${db}_copy`;
    created.push(copy);
    const r = await cli(['restore', 'pgt', '--backup', manifest.id, '--dbname', copy, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ matches: true, dbname: copy });
    for (const t of ['accounts', 'events']) {
      const [a, b] = await Promise.all([tableFingerprint(pg, db, t), tableFingerprint(pg, copy, t)]);
      expect(b).toEqual(a);
    }
    expect((await tableFingerprint(pg, copy, 'accounts')).rows).toBe(20000);
  });

  it('refuses to restore into an existing database and changes nothing there', async () => {
    const before = await tableFingerprint(pg, db, 'accounts');
    const r = await cli(['restore', 'pgt', '--backup', manifest.id, '--dbname', `${db}_copy`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Database ".*_copy" already exists .*; a restore never writes into an existing database, so choose a new --dbname\./);
    const own = await cli(['restore', 'pgt', '--dbname', db]);
    expect(own.code).toBe(2);
    expect(own.stderr).toContain("is the target's own database");
    expect(await tableFingerprint(pg, db, 'accounts')).toEqual(before);
  });

  it('restores a single table', async () => {
    const one = `${db}_one`;
    created.push(one);
    const r = await cli(['restore', 'pgt', '--backup', manifest.id, '--dbname', one, '--table', 'accounts', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const tables = await withPg(pg, (c) => c.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`), { database: one });
    expect(tables.rows.map((x) => x.t)).toEqual(['accounts']);
    expect(await tableFingerprint(pg, one, 'accounts')).toEqual(await tableFingerprint(pg, db, 'accounts'));
  });

  it('dumps in parallel in directory format with --jobs and restores that too', async () => {
    const r = await cli(['backup', 'pgt', '--kind', 'logical', '--jobs', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = (JSON.parse(r.stdout) as { backup: Manifest }).backup;
    expect(m.format).toBe('pg_dump-directory');
    expect(m.files.length).toBeGreaterThan(2);
    const par = `${db}_par`;
    created.push(par);
    const rr = await cli(['restore', 'pgt', '--backup', m.id, '--dbname', par, '--jobs', '2', '--json']);
    expect(rr.code, rr.stderr).toBe(0);
    expect(await tableFingerprint(pg, par, 'events')).toEqual(await tableFingerprint(pg, db, 'events'));
  });

  it('verifies with --restore in a scratch server, and records it in the manifest', async () => {
    const withDigests = await cli(['backup', 'pgt', '--kind', 'logical', '--digests', '--json']);
    expect(withDigests.code, withDigests.stderr).toBe(0);
    const dm = (JSON.parse(withDigests.stdout) as { backup: Manifest }).backup;
    expect(dm.tables!.every((t) => /^-?\d+$/.test(t.digest ?? ''))).toBe(true);
    expect(manifest.tables!.every((t) => t.digest === undefined)).toBe(true);
    const r = await cli(['verify', 'pgt', '--backup', dm.id, '--restore', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { method: string; ok: boolean; detail: string }[] };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.method)).toEqual(['sha256', 'pg_restore --list', 'restore', 'pg_amcheck']);
    expect(report.checks.find((c) => c.method === 'restore')!.detail).toBe('restored 2 tables; row counts and digests match the backup (50000 rows)');
    const m = JSON.parse(readFileSync(join(repo, 'backups', dm.id, 'manifest.json'), 'utf8')) as Manifest;
    expect(m.verification?.map((v) => v.method)).toEqual(['sha256', 'pg_restore --list', 'restore', 'pg_amcheck']);
    expect(m.verification?.every((v) => v.ok)).toBe(true);
  });

  it('verify --restore fails, naming the tables, when the restored rows differ from those recorded', async () => {
    const r0 = await cli(['backup', 'pgt', '--kind', 'logical', '--digests', '--json']);
    expect(r0.code, r0.stderr).toBe(0);
    const id = (JSON.parse(r0.stdout) as { backup: Manifest }).backup.id;
    // The manifest carries no checksum of its own; what it records is what a restore must match.
    const file = join(repo, 'backups', id, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    m.tables = m.tables!.map((t) =>
      t.table === 'public.accounts' ? { ...t, rows: t.rows + 1 } : t.table === 'public.events' ? { ...t, digest: String(BigInt(t.digest!) + 1n) } : t,
    );
    writeFileSync(file, JSON.stringify(m, null, 2));

    const r = await cli(['verify', 'pgt', '--backup', id, '--restore']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('OK   sha256: 1 file(s) match their checksums');
    expect(r.stdout).toContain('FAIL restore: public.accounts has 20000 rows, expected 20001; public.events has the expected row count but different contents');
    expect(r.stdout).toContain(`Backup ${id} FAILED verification.`);
    const after = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    expect(after.verification?.find((v) => v.method === 'restore')).toMatchObject({ ok: false, detail: expect.stringContaining('public.accounts has 20000 rows') });
  });

  it('detects and names a corrupted byte in the dump', async () => {
    const r0 = await cli(['backup', 'pgt', '--kind', 'logical', '--json']);
    const m = (JSON.parse(r0.stdout) as { backup: Manifest }).backup;
    const file = join(repo, 'backups', m.id, 'dump.pgdump');
    flipByte(file, Math.floor(statSync(file).size / 2));
    const r = await cli(['verify', 'pgt', '--backup', m.id]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL sha256: dump.pgdump: checksum differs');
    expect(r.stdout).toContain(`Backup ${m.id} FAILED verification.`);
    const cat = await cli(['catalog', 'pgt', '--json']);
    const entry = (JSON.parse(cat.stdout) as { backups: { id: string; verified?: { ok: boolean } }[] }).backups.find((b) => b.id === m.id);
    expect(entry?.verified?.ok).toBe(false);
  });
});

describe('physical backups of PostgreSQL', () => {
  let m: Manifest;

  it('takes a pg_basebackup with WAL, LSNs and a timeline recorded', async () => {
    const r = await cli(['backup', 'pgt', '--kind', 'physical', '--json']);
    expect(r.code, r.stderr).toBe(0);
    m = (JSON.parse(r.stdout) as { backup: Manifest }).backup;
    expect(m.id).toMatch(/-F$/);
    expect(m.files.map((f) => f.path)).toEqual(['base/backup_manifest', 'base/base.tar', 'base/pg_wal.tar']);
    expect(m.postgres?.startLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(m.postgres?.stopLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(m.postgres?.timeline).toBe(1);
    expect(m.postgres?.walStart).toMatch(/^00000001[0-9A-F]{16}$/);
    expect(m.postgres?.systemId).toMatch(/^\d+$/);
    expect(r.stderr).toContain('waiting for checkpoint');
  });

  it('verify --restore starts the base backup in a scratch server and runs pg_amcheck', async () => {
    const r = await cli(['verify', 'pgt', '--backup', m.id, '--restore', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { method: string; ok: boolean; detail: string }[] };
    expect(report.checks.map((c) => [c.method, c.ok])).toEqual([['sha256', true], ['pg_verifybackup', true], ['restore', true], ['pg_amcheck', true]]);
    expect(report.checks[2]!.detail).toMatch(/^started and recovered to the consistent point [0-9A-F]+\/[0-9A-F]+; /);
    // Said plainly: a physical verify proves startability and pg_amcheck, not row counts.
    expect(report.checks[2]!.detail).toContain('row counts are not compared for a physical backup');
    expect(m.tables).toBeUndefined();
  });

  it('passes pg_verifybackup, and a flipped byte in base.tar is named', async () => {
    const ok = await cli(['verify', 'pgt', '--backup', m.id]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('OK   pg_verifybackup');
    flipByte(join(repo, 'backups', m.id, 'base', 'base.tar'), 4096 * 40 + 100);
    const bad = await cli(['verify', 'pgt', '--backup', m.id]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FAIL sha256: base/base.tar: checksum differs');
  });
});

describe('failed and interrupted backups', () => {
  it('a backup killed mid-run leaves a failed manifest and no data', async () => {
    // An exclusive lock makes pg_dump wait, so there is a run to interrupt.
    const locker = await import('pg').then((m) => new m.default.Client({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: db }));
    locker.on('error', () => {});
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE');
    try {
      const run = cli(['backup', 'pgt', '--kind', 'logical', '--json']);
      // Wait for pg_dump to be blocked, then kill it -9.
      let pid: number | undefined;
      for (let i = 0; i < 100 && pid === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        pid = findProcess('pg_dump', db);
      }
      expect(pid, 'pg_dump should be running').toBeDefined();
      process.kill(pid!, 'SIGKILL');
      const r = await run;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Backup \S+ failed: pg_dump was killed by SIGKILL/);
      const out = JSON.parse(r.stdout) as { error: { backup: string } };
      const dir = join(repo, 'backups', out.error.backup);
      expect(readdirSync(dir)).toEqual(['manifest.json']);
      const man = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      expect(man.status).toBe('failed');
      expect(man.error).toMatch(/killed by SIGKILL/);
      // The failed manifest still says what ran, recorded before the tool started.
      expect(man.tool.name).toBe('pg_dump');
      expect(man.tool.version).toMatch(/^15\./);
      expect(man.tool.argv[0]).toMatch(/\/pg_dump$/);
      expect(man.tool.argv).toEqual(expect.arrayContaining(['--dbname', db, '--format', 'custom', '--snapshot']));
      expect(JSON.stringify(man)).not.toContain(pg.password);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });

  it('Ctrl-C cancels the tool and marks the backup failed', async () => {
    const locker = await import('pg').then((m) => new m.default.Client({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: db }));
    locker.on('error', () => {});
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
    try {
      const { spawn } = await import('node:child_process');
      const { CLI } = await import('./helpers/cli.js');
      const child = spawn(process.execPath, [CLI, 'backup', 'pgt', '--kind', 'logical', '--json'], { env: { ...process.env, ...env } });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      for (let i = 0; i < 100 && findProcess('pg_dump', db) === undefined; i++) await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGINT');
      const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? -1)));
      expect(code).toBe(1);
      const id = (JSON.parse(stdout) as { error: { backup: string } }).error.backup;
      const man = JSON.parse(readFileSync(join(repo, 'backups', id, 'manifest.json'), 'utf8')) as Manifest;
      expect(man.status).toBe('failed');
      expect(man.error).toMatch(/^cancelled/);
      expect(man.tool).toMatchObject({ name: 'pg_dump', argv: expect.arrayContaining(['--dbname', db]) });
      expect(findProcess('pg_dump', db)).toBeUndefined();
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });

  it('a dbdrill killed -9 mid-backup leaves a running manifest that the next catalog marks failed', async () => {
    await withLocked('accounts', async () => {
      const run = spawnCli(['backup', 'pgt', '--kind', 'logical', '--json']);
      const { id, man } = await waitForRunning(run.pid);
      expect(man.owner).toEqual({ pid: run.pid, host: hostname(), startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), processStart: expect.stringMatching(/^[0-9a-f-]{36}\/\d+$/) });
      const dumpPid = await waitFor(() => findProcess('pg_dump', db), 'pg_dump should be running');
      // Blocked on the lock, pg_dump has taken over the exported snapshot and outlives dbdrill;
      // killed before that, it would fail on its own for want of the snapshot.
      await waitForLockWait();
      process.kill(run.pid, 'SIGKILL');
      expect(await run.exit).toBe('SIGKILL');
      // Nothing was left to write "failed": the manifest says running, and pg_dump (its own
      // process group) is still waiting for the lock, orphaned.
      expect(readManifest(id).status).toBe('running');
      expect(findProcess('pg_dump', db)).toBe(dumpPid);

      const cat = await cli(['catalog', 'pgt', '--json']);
      expect(cat.code, cat.stderr).toBe(0);
      const entry = (JSON.parse(cat.stdout) as { backups: { id: string; status: string; error?: string }[] }).backups.find((b) => b.id === id);
      const reason = `interrupted: the dbdrill process ${run.pid} on ${hostname()} is gone; its leftover pg_dump (pid ${dumpPid}) was stopped`;
      expect(entry).toMatchObject({ status: 'failed', error: reason });
      const after = readManifest(id);
      expect(after).toMatchObject({ status: 'failed', error: reason, files: [], sizeBytes: 0, tool: { name: 'pg_dump' } });
      expect(after.owner).toBeUndefined();
      expect(readdirSync(join(repo, 'backups', id))).toEqual(['manifest.json']);
      expect(findProcess('pg_dump', db)).toBeUndefined();
    });
  });

  it('the next backup marks a backup left running by a killed dbdrill failed, and says so', async () => {
    let id = '';
    let pid = 0;
    await withLocked('events', async () => {
      const run = spawnCli(['backup', 'pgt', '--kind', 'logical', '--json']);
      pid = run.pid;
      id = (await waitForRunning(run.pid)).id;
      await waitFor(() => findProcess('pg_dump', db), 'pg_dump should be running');
      await waitForLockWait();
      process.kill(run.pid, 'SIGKILL');
      expect(await run.exit).toBe('SIGKILL');
    });
    const r = await cli(['backup', 'pgt', '--kind', 'logical', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`WARN backup ${id} was left running and is now marked failed (interrupted: the dbdrill process ${pid} on ${hostname()} is gone`);
    expect(readManifest(id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted: the dbdrill process \d+ on \S+ is gone/) });
    expect(readdirSync(join(repo, 'backups', id))).toEqual(['manifest.json']);
    expect(findProcess('pg_dump', db)).toBeUndefined();
  });

  it('a running manifest is left alone while its owner lives, and a reused pid is not its owner', () => {
    const me = thisProcessOwner();
    expect(ownerGone(me)).toBe(false);
    expect(ownerGone({ ...me, host: 'another-host' })).toBe(false);
    expect(ownerGone({ ...me, processStart: `${me.processStart!.split('/')[0]}/1` })).toBe(true);
    expect(ownerGone({ ...me, pid: 2 ** 22 + 1 })).toBe(true);
  });

  it('the catalog lists every backup newest first, failed ones included', async () => {
    const r = await cli(['catalog', 'pgt', '--json']);
    const cat = JSON.parse(r.stdout) as { backups: { id: string; status: string }[] };
    const ids = cat.backups.map((b) => b.id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(cat.backups.filter((b) => b.status === 'failed').length).toBe(4);
    // The dump and the base backup whose bytes were flipped above failed verify: they are corrupt now.
    expect(cat.backups.filter((b) => b.status === 'complete').length).toBe(5);
    expect(cat.backups.filter((b) => b.status === 'corrupt').length).toBe(2);
    expect(cat.backups.filter((b) => b.status === 'running')).toEqual([]);
    const text = await cli(['catalog', 'pgt']);
    expect(text.stdout.split('\n')[0]).toMatch(/^ID\s+KIND\s+TYPE\s+STATUS\s+STARTED\s+DURATION\s+SIZE\s+VERIFIED/);
  });
});

function readManifest(id: string): Manifest {
  return JSON.parse(readFileSync(join(repo, 'backups', id, 'manifest.json'), 'utf8')) as Manifest;
}

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The running backup of the dbdrill process `pid`, once its tool has been recorded. */
function waitForRunning(pid: number): Promise<{ id: string; man: Manifest }> {
  return waitFor(() => {
    const dir = join(repo, 'backups');
    for (const id of readdirSync(dir)) {
      try {
        const man = readManifest(id);
        if (man.status === 'running' && man.owner?.pid === pid && man.tool.name !== '') return { id, man };
      } catch {
        // being written
      }
    }
    return undefined;
  }, `a running manifest owned by ${pid}`);
}

/** Until pg_dump's session waits for a table lock. */
function waitForLockWait(): Promise<true> {
  return waitFor(async () => {
    const r = await withPg(pg, (c) =>
      c.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'pg_dump' AND datname = $1 AND wait_event_type = 'Lock'`, [db]),
    );
    return r.rows.length > 0 ? true : undefined;
  }, 'pg_dump to wait for the lock');
}

/** The built CLI as a child of its own; exit resolves to the exit code or the killing signal. */
function spawnCli(args: string[]): { pid: number; exit: Promise<number | string> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const exit = new Promise<number | string>((r) => child.on('exit', (code, sig) => r(sig ?? code ?? -1)));
  return { pid: child.pid!, exit };
}

/** Holds an ACCESS EXCLUSIVE lock on a table while fn runs, so pg_dump waits and can be caught running. */
async function withLocked(table: string, fn: () => Promise<void>): Promise<void> {
  const locker = new pgDriver.Client({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: db });
  locker.on('error', () => {});
  await locker.connect();
  try {
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    await fn();
  } finally {
    await locker.query('ROLLBACK').catch(() => {});
    await locker.end();
  }
}

/** The pid of a running tool whose command line mentions `needle`. */
function findProcess(name: string, needle: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith(`/${name}`) && cmd.includes(needle)) return Number(entry);
    } catch {
      // gone
    }
  }
  return undefined;
}
