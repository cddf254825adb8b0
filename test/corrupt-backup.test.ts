import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../src/ops/catalog.js';
import type { Manifest } from '../src/repo/manifest.js';
import { listProcesses } from '../src/runner/process.js';
import { freePort } from '../src/sandbox/ports.js';
import { ArchivedPostgres, PitrRestores } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';

// A PostgreSQL of this file's own: its backups are damaged on purpose and its archive gets a gap.
const cfg = tempConfigDir();
const runDir = sandboxRunDir();
let db: ArchivedPostgres;
let env: Record<string, string>;
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
const restores = new PitrRestores(cli, 'corrupt');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failedInto = join(runDir, `corrupt-failed-${process.pid}`);
const createdDbs: string[] = [];

/** The one row of each kind whose bytes the tests look for in the backup's files. */
const NOTE = (n: number) => `corrupt-test-marker-row-${n}-${'x'.repeat(40)}`;

async function catalog(): Promise<CatalogEntry[]> {
  const r = await cli(['catalog', 'corrupt', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { backups: CatalogEntry[] }).backups;
}

async function backup(kind: 'physical' | 'logical', extra: string[] = []): Promise<Manifest> {
  const r = await cli(['backup', 'corrupt', '--kind', kind, ...extra, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { backup: Manifest }).backup;
}

/** Flips one byte inside the first occurrence of `needle` in the file; returns the original bytes. */
function flipInside(file: string, needle: string): Buffer {
  const original = readFileSync(file);
  const at = original.indexOf(Buffer.from(needle));
  expect(at, `${needle} in ${file}`).toBeGreaterThan(0);
  const bad = Buffer.from(original);
  bad[at + 10] = bad[at + 10]! ^ 0x01;
  writeFileSync(file, bad);
  return original;
}

function flipAt(file: string, offset: number): Buffer {
  const original = readFileSync(file);
  const bad = Buffer.from(original);
  bad[offset] = bad[offset]! ^ 0x55;
  writeFileSync(file, bad);
  return original;
}

function postgresServing(dir: string): number[] {
  return listProcesses().filter((p) => p.name === 'postgres' && p.commandLine.includes(dir)).map((p) => p.pid);
}

beforeAll(async () => {
  db = await ArchivedPostgres.start('corrupt');
  env = { DBDRILL_CONFIG_DIR: cfg.dir, CORRUPT_PW: db.server.password };
  const add = await cli(['target', 'add', 'corrupt', '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', 'CORRUPT_PW']);
  expect(add.code, add.stderr).toBe(0);
});

afterAll(async () => {
  await restores.stopAll();
  for (const d of createdDbs) await db?.sql(`DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`, undefined, 'postgres').catch(() => {});
  await db?.stop();
  rmSync(failedInto, { recursive: true, force: true });
  cfg.cleanup();
});

describe('a physical backup with a flipped byte in a heap tuple of base.tar', () => {
  let b1: Manifest;
  let b2: Manifest;
  let b2Tar = '';
  let b2Original: Buffer;
  let between = '';
  let target = '';

  it('restore --backup stops while unpacking, names base.tar, starts no server and marks the backup corrupt', async () => {
    await db.sql('CREATE TABLE marks (n int PRIMARY KEY, note text)');
    await db.sql(`INSERT INTO marks VALUES (1, '${NOTE(1)}')`);
    b1 = await backup('physical');
    await db.sql(`INSERT INTO marks VALUES (2, '${NOTE(2)}')`);
    between = await db.switchAndArchive();
    b2 = await backup('physical');
    await db.sql(`INSERT INTO marks VALUES (3, '${NOTE(3)}')`);
    await sleep(300);
    target = await db.now();
    await sleep(300);
    await db.sql(`INSERT INTO marks VALUES (4, '${NOTE(4)}')`);
    await db.switchAndArchive();

    b2Tar = join(db.repo, 'backups', b2.id, 'base', 'base.tar');
    // Row 2 lives in b2's copy of the marks heap page (b1 was taken before it was written).
    b2Original = flipInside(b2Tar, NOTE(2));

    const port = await freePort();
    const r = await cli(['restore', 'corrupt', '--backup', b2.id, '--to', 'latest', '--into', failedInto, '--port', String(port)]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `dbdrill: Backup ${b2.id} is corrupt: base/base.tar does not match the sha256 recorded at backup time; the restore stopped before starting a server and left ${failedInto} for inspection, and the backup is now marked corrupt (restore another one: dbdrill catalog corrupt).\n`,
    );
    // Unpacking had begun (the destination is left as it got), recovery was never configured or started.
    expect(existsSync(join(failedInto, 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(failedInto, 'recovery.signal'))).toBe(false);
    expect(existsSync(join(failedInto, 'postmaster.pid'))).toBe(false);
    expect(postgresServing(failedInto)).toEqual([]);

    const entry = (await catalog()).find((b) => b.id === b2.id)!;
    expect(entry.status).toBe('corrupt');
    expect(entry.verified).toMatchObject({ ok: false, method: 'sha256' });
    const m = JSON.parse(readFileSync(join(db.repo, 'backups', b2.id, 'manifest.json'), 'utf8')) as Manifest;
    expect(m.status).toBe('corrupt');
    expect(m.verification!.at(-1)).toMatchObject({ method: 'sha256', ok: false, detail: 'base/base.tar: checksum differs (found by a restore)' });
    const text = await cli(['catalog', 'corrupt']);
    expect(text.stdout).toMatch(new RegExp(`${b2.id}\\s+physical\\s+full\\s+corrupt\\s`));
  });

  it('verify fails on both the checksum and pg_verifybackup and keeps the backup corrupt', async () => {
    const r = await cli(['verify', 'corrupt', '--backup', b2.id]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL sha256: base/base.tar: checksum differs');
    expect(r.stdout).toMatch(/FAIL pg_verifybackup: .*base/);
    expect(r.stdout).toContain(`Backup ${b2.id} FAILED verification.\nIt is marked corrupt: no restore, drill or plan starts from it until verify passes again.`);
    expect((await catalog()).find((b) => b.id === b2.id)!.status).toBe('corrupt');
    // verify NAME checks every backup: the corrupt one fails again and stays corrupt, the older one passes.
    const plain = await cli(['verify', 'corrupt', '--json']);
    expect(plain.code, plain.stdout).toBe(1);
    const whole = JSON.parse(plain.stdout) as { backups: { backup: string; status: string; statusAfter?: string; reason: string }[] };
    expect(whole.backups.find((b) => b.backup === b1.id)).toMatchObject({ status: 'ok', statusAfter: 'complete' });
    expect(whole.backups.find((b) => b.backup === b2.id)).toMatchObject({ status: 'failed', statusAfter: 'corrupt', reason: expect.stringContaining('base/base.tar: checksum differs') });
  });

  it('a time the corrupt backup would serve is restored from the previous one, exactly, and the plan says why', async () => {
    const r = await restores.restore('corrupt', ['--to', target]);
    expect(r.code, r.stderr).toBe(0);
    const plan = r.report!.plan as unknown as { backup: string; notes: string[] };
    expect(plan.backup).toBe(b1.id);
    expect(plan.notes).toContainEqual(
      expect.stringMatching(new RegExp(`^backup ${b2.id} is corrupt \\(verify at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ: base/base\\.tar: checksum differs\\); starting from ${b1.id} instead$`)),
    );
    expect(r.stderr).toContain(`backup ${b2.id} is corrupt (verify at `);
    const rows = await db.sql<{ n: number; note: string }>('SELECT n, note FROM marks ORDER BY n', r.port);
    expect(rows).toEqual([1, 2, 3].map((n) => ({ n, note: NOTE(n) })));
    await restores.stop(r.report!.pid);
  });

  it('naming the corrupt backup again is refused before anything is written', async () => {
    const r = await restores.restore('corrupt', ['--backup', b2.id, '--to', 'latest']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`dbdrill: Backup ${b2.id} is corrupt \\(verify at [^)]*: base/base\\.tar: checksum differs\\); restore from another backup`));
    expect(existsSync(r.into)).toBe(false);
  });

  it('with no good backup left to reach the time, the restore is refused naming the corrupt backup and the window that remains', async () => {
    // A gap between b1 and b2: b1 can no longer replay up to the target.
    unlinkSync(join(db.repo, 'wal', between.slice(0, 8), readdirSync(join(db.repo, 'wal', between.slice(0, 8))).find((f) => f.startsWith(between))!));
    const r = await restores.restore('corrupt', ['--to', target]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`is past the end of the recoverable window \\(.+ → .+\\): replay would stop at the gap ${between}…${between} in the archive; backup ${b2.id}, which would have served it, is corrupt \\(verify at [^)]*: base/base\\.tar: checksum differs\\); choose an earlier time`),
    );
    expect(existsSync(r.into)).toBe(false);
  });

  it('once the file is put back, verify passes and the backup is complete again', async () => {
    writeFileSync(b2Tar, b2Original);
    const r = await cli(['verify', 'corrupt', '--backup', b2.id]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`Backup ${b2.id} verified.\nIts files match again: it is complete again and restores may start from it.`);
    expect((await catalog()).find((b) => b.id === b2.id)!.status).toBe('complete');
    // And the planner takes it again for the time it serves.
    const plan = await cli(['restore', 'corrupt', '--to', target, '--dry-run', '--into', join(runDir, `corrupt-dry-${process.pid}`), '--port', String(await freePort()), '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).plan.backup).toBe(b2.id);
  });
});

describe('logical backups with a flipped byte', () => {
  let good: Manifest;
  let bad: Manifest;

  it('pg_restore reads the dump from a checked stream: the restore fails naming dump.pgdump and marks it corrupt', async () => {
    good = await backup('logical');
    await db.sql(`INSERT INTO marks VALUES (5, '${NOTE(5)}') ON CONFLICT DO NOTHING`);
    bad = await backup('logical');
    const file = join(db.repo, 'backups', bad.id, 'dump.pgdump');
    flipAt(file, Math.floor(readFileSync(file).length / 2));

    createdDbs.push('restored_bad');
    const r = await cli(['restore', 'corrupt', '--backup', bad.id, '--dbname', 'restored_bad']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `dbdrill: Backup ${bad.id} is corrupt: dump.pgdump does not match the sha256 recorded at backup time; the restore stopped and left the partial database "restored_bad" for inspection, and the backup is now marked corrupt`,
    );
    expect((await catalog()).find((b) => b.id === bad.id)!.status).toBe('corrupt');
  });

  it('the default logical backup is then the previous good one', async () => {
    createdDbs.push('restored_default');
    const r = await cli(['restore', 'corrupt', '--dbname', 'restored_default', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backup: good.id, matches: true });
    expect(r.stderr).toMatch(new RegExp(`backup ${bad.id} is corrupt \\(verify at [^)]*: dump\\.pgdump: checksum differs \\(found by a restore\\)\\); starting from ${good.id} instead`));
  });

  it('a directory dump restored with --jobs is checked before the database is created', async () => {
    const dir = await backup('logical', ['--jobs', '2']);
    const data = dir.files.filter((f) => f.path.endsWith('.dat.gz')).sort((a, b) => b.bytes - a.bytes)[0]!;
    const file = join(db.repo, 'backups', dir.id, data.path);
    flipAt(file, Math.floor(data.bytes / 2));
    const r = await cli(['restore', 'corrupt', '--backup', dir.id, '--dbname', 'restored_dir', '--jobs', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`dbdrill: Backup ${dir.id} is corrupt: ${data.path} does not match the sha256 recorded at backup time; the restore stopped before creating the database "restored_dir"`);
    const exists = await db.sql(`SELECT 1 FROM pg_database WHERE datname = 'restored_dir'`, undefined, 'postgres');
    expect(exists).toEqual([]);
    expect((await catalog()).find((b) => b.id === dir.id)!.status).toBe('corrupt');
  });
});
