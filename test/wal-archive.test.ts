import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchivedPostgres, PitrRestores } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';
import { readDbw } from './helpers/wal-files.js';

/**
 * wal-push / wal-fetch on real files: segments a PostgreSQL wrote and archived through
 * `wal-push --compress zstd`, a timeline history file from a real promotion, and a second,
 * uncompressed repository reached by target name (the `wal-push NAME %p` form). Junk, races,
 * symlinks and damaged copies: wal-push.test.ts, wal-fetch.test.ts, wal-recovery.test.ts.
 */
const cfg = tempConfigDir();
const work = join(sandboxRunDir(), `wal-archive-work-${process.pid}`);
const plainRepo = join(sandboxRunDir(), `wal-archive-plain-${process.pid}`);
let db: ArchivedPostgres;
let env: Record<string, string>;
let restores: PitrRestores;

const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const segDir = (repo: string, name: string) => join(repo, 'wal', name.slice(0, 8));

/** A copy of a segment as PostgreSQL wrote it, taken from pg_wal before a checkpoint recycles it. */
function copyFromPgWal(name: string, dir = work): string {
  mkdirSync(dir, { recursive: true });
  const to = join(dir, name);
  copyFileSync(join(db.server.dataDir, 'pg_wal', name), to);
  return to;
}

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  db = await ArchivedPostgres.start('walz', { compress: 'zstd' });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, WALZ_PW: db.server.password };
  restores = new PitrRestores(cli, 'walz-restored');
  for (const [name, repo] of [['walz', db.repo], ['plain', plainRepo]] as const) {
    const add = await cli(['target', 'add', name, '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', repo, '--password-env', 'WALZ_PW']);
    expect(add.code, add.stderr).toBe(0);
  }
});

afterAll(async () => {
  await restores?.stopAll();
  await db?.stop();
  for (const d of [work, plainRepo]) rmSync(d, { recursive: true, force: true });
  cfg.cleanup();
});

describe('wal-push and wal-fetch', () => {
  let segment = '';
  let original: Buffer;

  it('archive_command with --compress zstd stores <segment>.dbw holding zstd, and wal-fetch gives back the exact bytes', async () => {
    await db.sql('CREATE TABLE walz_rows AS SELECT g AS n, md5(g::text) AS t FROM generate_series(1, 20000) g');
    segment = await db.switchAndArchive();
    original = readFileSync(copyFromPgWal(segment));
    const stored = readdirSync(segDir(db.repo, segment)).filter((f) => f.startsWith(segment));
    expect(stored).toEqual([`${segment}.dbw`]);
    const dbw = statSync(join(segDir(db.repo, segment), `${segment}.dbw`));
    expect(dbw.size).toBeLessThan(original.length / 2);
    expect(dbw.mode & 0o777).toBe(0o600);
    const { header, payload } = readDbw(join(segDir(db.repo, segment), `${segment}.dbw`));
    expect(header).toMatchObject({ name: segment, bytes: original.length, sha256: sha(original), encoding: ['zstd'], storedBytes: payload.length, storedSha256: sha(payload) });

    const out = join(work, 'fetched');
    const f = await cli(['wal-fetch', 'walz', segment, out]);
    expect(f.code, f.stderr).toBe(0);
    expect(sha(readFileSync(out))).toBe(sha(original));
    expect(readdirSync(work).filter((n) => n.includes('dbdrill-fetch'))).toEqual([]);

    // The inventory counts compressed segments like plain ones.
    const w = await cli(['window', 'walz', '--json']);
    expect(w.code, w.stderr).toBe(0);
    const win = JSON.parse(w.stdout) as { timelines: number[]; segments: number; newestSegment: string; gaps: unknown[] };
    expect(win.timelines).toEqual([1]);
    expect(win.newestSegment).toBe(segment);
    expect(win.segments).toBe(readdirSync(segDir(db.repo, segment)).filter((n) => /^[0-9A-F]{24}\.dbw$/.test(n)).length);
  });

  it('pushing the same bytes again succeeds in either form; different bytes fail naming both checksums and change nothing', async () => {
    const copy = copyFromPgWal(segment, join(work, 'again'));
    // By hand as root into the server's wal/, which only --allow-root permits.
    for (const extra of [[], ['--compress', 'zstd']]) {
      const r = await cli(['wal-push', '--repo', db.repo, '--allow-root', ...extra, copy, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ name: segment, alreadyArchived: true, compressed: true, sha256: sha(original) });
    }
    const dbwPath = join(segDir(db.repo, segment), `${segment}.dbw`);
    const before = sha(readFileSync(dbwPath));
    const changed = Buffer.from(original);
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 0xff;
    const forged = join(work, 'forged', segment);
    mkdirSync(join(work, 'forged'), { recursive: true });
    writeFileSync(forged, changed);
    const bad = await cli(['wal-push', '--repo', db.repo, '--allow-root', '--compress', 'zstd', forged]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `dbdrill: ${segment} is already archived with different contents (archived sha256 ${sha(original)}, new sha256 ${sha(changed)}); it was not overwritten — check whether two servers archive into ${db.repo}.\n`,
    );
    expect(sha(readFileSync(dbwPath))).toBe(before);
    expect(readdirSync(segDir(db.repo, segment)).filter((f) => f.startsWith(segment))).toEqual([`${segment}.dbw`]);
  });

  it('wal-push NAME %p archives into the target\'s repository; wal-fetch NAME writes identical bytes and exits 1 for a file past the archive\'s end', async () => {
    const copy = copyFromPgWal(segment, join(work, 'byname'));
    const r = await cli(['wal-push', 'plain', copy, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ compressed: false, alreadyArchived: false, bytes: original.length });
    expect(sha(readDbw(join(segDir(plainRepo, segment), `${segment}.dbw`)).payload)).toBe(sha(original));
    expect(readdirSync(segDir(plainRepo, segment))).toEqual([`${segment}.dbw`]);
    const again = await cli(['wal-push', 'plain', copy]);
    expect(again.code, again.stderr).toBe(0);

    const out = join(work, 'byname-fetched');
    const f = await cli(['wal-fetch', 'plain', segment, out]);
    expect(f.code, f.stderr).toBe(0);
    expect(readFileSync(out).equals(original)).toBe(true);

    const missing = join(work, 'missing');
    const m = await cli(['wal-fetch', 'plain', '0000000100000000000000FE', missing]);
    expect(m.code).toBe(1);
    expect(m.stderr).toBe('');
    expect(existsSync(missing)).toBe(false);
    const usage = await cli(['wal-push', 'plain', '--compress', 'lz4', copy]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^dbdrill: --compress "lz4" is not supported; use --compress zstd or --compress none/);
  });

  it('restores to a point in time from the compressed archive; the new timeline\'s .history file is pushed and fetched as it is', async () => {
    const backup = await cli(['backup', 'walz', '--kind', 'physical']);
    expect(backup.code, backup.stderr).toBe(0);
    await db.sql(`CREATE TABLE walz_marks (n int PRIMARY KEY)`);
    await db.sql(`INSERT INTO walz_marks VALUES (1)`);
    await new Promise((r) => setTimeout(r, 300));
    const marked = await db.now();
    await new Promise((r) => setTimeout(r, 300));
    await db.sql(`INSERT INTO walz_marks VALUES (2)`);
    await db.sql('DROP TABLE walz_rows');
    await db.switchAndArchive();
    const stored = readdirSync(segDir(db.repo, segment)).filter((n) => !n.startsWith('.'));
    expect(stored.every((n) => n.endsWith('.dbw'))).toBe(true);

    const r = await restores.restore('walz', ['--to', marked]);
    expect(r.code, r.stderr).toBe(0);
    const rep = r.report!;
    expect(rep.segmentsRestored).toBeGreaterThan(0);
    expect((await db.sql<{ n: number }>('SELECT n FROM walz_marks ORDER BY n', r.port)).map((x) => x.n)).toEqual([1]);
    expect(Number((await db.sql<{ c: string }>('SELECT count(*) AS c FROM walz_rows', r.port))[0]!.c)).toBe(20000);
    expect(rep.timeline).toBe(2);

    // The promotion wrote a real timeline history file; archive it the way archive_command would.
    const history = join(r.into, 'pg_wal', '00000002.history');
    const bytes = readFileSync(history);
    expect(bytes.toString()).toMatch(/^1\t0\/[0-9A-F]+\t/);
    const push = await cli(['wal-push', '--repo', db.repo, '--allow-root', '--compress', 'zstd', history, '--json']);
    expect(push.code, push.stderr).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ name: '00000002.history', compressed: false, path: join(db.repo, 'wal', '00000002.history.dbw') });
    expect(readDbw(join(db.repo, 'wal', '00000002.history.dbw')).payload.equals(bytes)).toBe(true);
    expect((await cli(['wal-push', '--repo', db.repo, '--allow-root', history])).code).toBe(0);
    const out = join(work, 'history-fetched');
    const f = await cli(['wal-fetch', 'walz', '00000002.history', out]);
    expect(f.code, f.stderr).toBe(0);
    expect(readFileSync(out).equals(bytes)).toBe(true);
    // Segments are stored compressed, the backup history file as it is; zstd agrees every frame is intact.
    for (const n of stored) {
      const { header, payload } = readDbw(join(segDir(db.repo, segment), n));
      expect(header.encoding, n).toEqual(n.endsWith('.backup.dbw') ? [] : ['zstd']);
      if (header.encoding.length) expect(spawnSync('zstd', ['-t', '-q'], { input: payload }).status, n).toBe(0);
    }
  });
});
