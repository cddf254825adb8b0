import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchivedPostgres, PitrRestores } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';

/**
 * wal-push / wal-fetch on real files: segments a PostgreSQL wrote and archived through
 * `wal-push --compress zstd`, a timeline history file from a real promotion, and a second,
 * uncompressed repository reached by target name (the `wal-push NAME %p` form).
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

  it('archive_command with --compress zstd stores <segment>.zst, and wal-fetch gives back the exact bytes', async () => {
    await db.sql('CREATE TABLE walz_rows AS SELECT g AS n, md5(g::text) AS t FROM generate_series(1, 20000) g');
    segment = await db.switchAndArchive();
    original = readFileSync(copyFromPgWal(segment));
    const stored = readdirSync(segDir(db.repo, segment)).filter((f) => f.startsWith(segment));
    expect(stored).toEqual([`${segment}.zst`]);
    const zst = statSync(join(segDir(db.repo, segment), `${segment}.zst`));
    expect(zst.size).toBeLessThan(original.length / 2);
    expect(zst.mode & 0o777).toBe(0o600);

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
    expect(win.segments).toBe(readdirSync(segDir(db.repo, segment)).filter((n) => n.endsWith('.zst')).length);
  });

  it('pushing the same bytes again succeeds in either form; different bytes fail naming both checksums and change nothing', async () => {
    const copy = copyFromPgWal(segment, join(work, 'again'));
    for (const extra of [[], ['--compress', 'zstd']]) {
      const r = await cli(['wal-push', '--repo', db.repo, ...extra, copy, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ name: segment, alreadyArchived: true, compressed: true, sha256: sha(original) });
    }
    const zstPath = join(segDir(db.repo, segment), `${segment}.zst`);
    const before = sha(readFileSync(zstPath));
    const changed = Buffer.from(original);
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 0xff;
    const forged = join(work, 'forged', segment);
    mkdirSync(join(work, 'forged'), { recursive: true });
    writeFileSync(forged, changed);
    const bad = await cli(['wal-push', '--repo', db.repo, '--compress', 'zstd', forged]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `dbdrill: ${segment} is already archived with different contents (archived sha256 ${sha(original)}, new sha256 ${sha(changed)}); it was not overwritten — check whether two servers archive into ${db.repo}.\n`,
    );
    expect(sha(readFileSync(zstPath))).toBe(before);
    expect(existsSync(join(segDir(db.repo, segment), segment))).toBe(false);
  });

  it('wal-push NAME %p archives into the target\'s repository; wal-fetch NAME writes identical bytes and exits 1 for a missing file', async () => {
    const copy = copyFromPgWal(segment, join(work, 'byname'));
    const r = await cli(['wal-push', 'plain', copy, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ compressed: false, alreadyArchived: false, bytes: original.length });
    expect(sha(readFileSync(join(segDir(plainRepo, segment), segment)))).toBe(sha(original));
    expect(readdirSync(segDir(plainRepo, segment))).toEqual([segment]);
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

  it('two pushes of different bytes racing for one name: exactly one wins and the archive holds its bytes', async () => {
    const repo = join(work, 'race-repo');
    for (let round = 0; round < 4; round++) {
      const name = `00000001000000000000008${round}`;
      const files = [0, 1].map((i) => {
        mkdirSync(join(work, `race-${i}`), { recursive: true });
        const p = join(work, `race-${i}`, name);
        writeFileSync(p, randomBytes(4 * 1024 * 1024));
        return p;
      });
      const compress = round % 2 === 0 ? [] : ['--compress', 'zstd'];
      const rs = await Promise.all(files.map((p) => cli(['wal-push', '--repo', repo, ...compress, p])));
      expect(rs.map((r) => r.code).sort()).toEqual([0, 1]);
      const winner = files[rs.findIndex((r) => r.code === 0)]!;
      const loser = rs.find((r) => r.code === 1)!;
      expect(loser.stderr).toContain(`${name} is already archived with different contents (archived sha256 ${sha(readFileSync(winner))}`);
      const out = join(work, `race-out-${round}`);
      expect((await cli(['wal-fetch', '--repo', repo, name, out])).code).toBe(0);
      expect(sha(readFileSync(out))).toBe(sha(readFileSync(winner)));
      // No temp file is left behind by the loser.
      expect(readdirSync(join(repo, 'wal', '00000001')).filter((n) => n.startsWith('.'))).toEqual([]);
    }
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
    const allZst = readdirSync(segDir(db.repo, segment)).filter((n) => !n.startsWith('.'));
    expect(allZst.every((n) => n.endsWith('.zst') || n.endsWith('.backup'))).toBe(true);

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
    const push = await cli(['wal-push', '--repo', db.repo, '--compress', 'zstd', history, '--json']);
    expect(push.code, push.stderr).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ name: '00000002.history', compressed: false, path: join(db.repo, 'wal', '00000002.history') });
    expect(readFileSync(join(db.repo, 'wal', '00000002.history')).equals(bytes)).toBe(true);
    expect((await cli(['wal-push', '--repo', db.repo, history])).code).toBe(0);
    const out = join(work, 'history-fetched');
    const f = await cli(['wal-fetch', 'walz', '00000002.history', out]);
    expect(f.code, f.stderr).toBe(0);
    expect(readFileSync(out).equals(bytes)).toBe(true);
    // zstd itself agrees that every archived segment is an intact frame.
    const t = spawnSync('zstd', ['-t', '-q', ...allZst.filter((n) => n.endsWith('.zst')).map((n) => join(segDir(db.repo, segment), n))]);
    expect(t.status, t.stderr.toString()).toBe(0);
  });
});
