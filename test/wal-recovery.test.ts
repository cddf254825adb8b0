import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedWalName } from '../src/pitr/wal-names.js';
import { isRoot, serverAccount } from '../src/sandbox/users.js';
import { walPush } from '../src/wal/archive.js';
import { walFetch } from '../src/wal/fetch.js';
import { prepareWalDir } from '../src/wal/layout.js';
import { ArchivedPostgres, PitrRestores } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';
import { flipByte, flipMiddle, sharedSegments } from './helpers/wal-files.js';

/**
 * A real point-in-time restore through wal-fetch over a damaged archive: recovery must abort
 * with the segment named (PostgreSQL's FATAL quoting wal-fetch's sentence), never end early and
 * report success with part of the data. Plain copies as the server archived them, then the same
 * archive re-encoded with zstd.
 */
const cfg = tempConfigDir();
const work = join(sandboxRunDir(), `wal-recovery-${process.pid}`);
const zrepo = join(sandboxRunDir(), `wal-recovery-zrepo-${process.pid}`);
let db: ArchivedPostgres;
let env: Record<string, string>;
let restores: PitrRestores;
/** The segments written after the backup, one marker row each. */
const marked: string[] = [];
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
const tl1 = (repo: string) => join(repo, 'wal', '00000001');
const FLIP_AT = 512 + 0x20123;

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  db = await ArchivedPostgres.start('walrec');
  env = { DBDRILL_CONFIG_DIR: cfg.dir, WALREC_PW: db.server.password };
  restores = new PitrRestores(cli, 'walrec-restored');
  for (const [name, repo] of [['walrec', db.repo], ['walrec-z', zrepo]] as const) {
    const add = await cli(['target', 'add', name, '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', repo, '--password-env', 'WALREC_PW']);
    expect(add.code, add.stderr).toBe(0);
  }
  const backup = await cli(['backup', 'walrec', '--kind', 'physical']);
  expect(backup.code, backup.stderr).toBe(0);
  await db.sql('CREATE TABLE walrec_marks (n int PRIMARY KEY, filler text)');
  for (let i = 1; i <= 4; i++) {
    // About 1.3 MB of records per segment: the flipped byte lands inside them.
    await db.sql(`INSERT INTO walrec_marks SELECT ${i} * 100000 + g, repeat(md5(g::text), 8) FROM generate_series(1, 5000) g`);
    marked.push(await db.switchAndArchive());
  }
}, 240_000);

afterAll(async () => {
  await restores?.stopAll();
  await db?.stop();
  for (const d of [work, zrepo]) rmSync(d, { recursive: true, force: true });
  cfg.cleanup();
});

/** What every aborted restore must show: exit non-zero, the segment named, PostgreSQL's FATAL, no promotion. */
function expectAborted(r: { code: number; stderr: string; into: string }, segment: string, file: string): void {
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).toContain(segment);
  const log = readFileSync(join(r.into, 'dbdrill-restore.log'), 'utf8');
  expect(log).toContain(`dbdrill wal-fetch: ${segment} cannot be restored: its archived copy ${file} is corrupt: the sha256 of its stored bytes is `);
  expect(log).toContain(`FATAL:  could not restore file "${segment}" from archive: child process exited with exit code 255`);
  expect(log).toContain(`restored log file "${marked[0]}" from archive`);
  expect(log).not.toContain('database system is ready to accept connections');
}

describe('recovery over a damaged archive', () => {
  it("refuses another server's segment: the archive records the system it belongs to", async () => {
    const other = (await sharedSegments(1, join(work, 'other')))[0]!;
    const r = await cli(['wal-push', '--repo', db.repo, '--allow-root', other]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^dbdrill: ${basename(other)} was not archived: it comes from database system \\d+, but this archive holds system \\d+ \\(recorded in ${db.repo}/wal/archive\\.json\\); give each server its own repository\\.\\n$`));
  });

  it('a flipped byte inside a mid-archive segment aborts recovery naming it, instead of a short restore', async () => {
    const mid = marked[1]!;
    const file = join(tl1(db.repo), `${mid}.dbw`);
    flipByte(file, FLIP_AT);
    try {
      expectAborted(await restores.restore('walrec', ['--to', 'latest']), mid, file);
    } finally {
      flipByte(file, FLIP_AT);
    }
  });

  it('the same over zstd-compressed copies; a later timeline\'s WAL under an earlier timeline\'s name is refused', async () => {
    // The archive re-encoded as `wal-push --compress zstd` stores it, beside the same backups.
    mkdirSync(zrepo, { recursive: true, mode: 0o700 });
    prepareWalDir(zrepo, serverAccount('postgres'));
    cpSync(join(db.repo, 'backups'), join(zrepo, 'backups'), { recursive: true });
    copyFileSync(join(db.repo, 'repo.json'), join(zrepo, 'repo.json'));
    const tmp = join(work, 'reencode');
    mkdirSync(tmp);
    for (const dir of [join(db.repo, 'wal'), tl1(db.repo)]) {
      for (const entry of readdirSync(dir)) {
        const name = storedWalName(entry);
        if (!name) continue;
        expect(await walFetch(db.repo, name, join(tmp, name))).toBe(true);
        await walPush(zrepo, join(tmp, name), { compress: 'zstd', allowRoot: isRoot() });
      }
    }

    const good = await restores.restore('walrec-z', ['--to', 'latest']);
    expect(good.code, good.stderr).toBe(0);
    const counts = await db.sql<{ k: number; c: string }>('SELECT n / 100000 AS k, count(*) AS c FROM walrec_marks GROUP BY 1 ORDER BY 1', good.port);
    expect(counts.map((x) => [x.k, Number(x.c)])).toEqual([[1, 5000], [2, 5000], [3, 5000], [4, 5000]]);

    // The restored server is on timeline 2; its second finished segment is timeline 2 from its first page.
    let finished = '';
    for (let i = 0; i < 2; i++) {
      await db.sql(`INSERT INTO walrec_marks SELECT 9000000 + ${i} * 1000 + g, 'x' FROM generate_series(1, 100) g`, good.port);
      finished = (await db.sql<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name', good.port))[0]!.name;
    }
    expect(finished.slice(0, 8)).toBe('00000002');
    const underTl1 = `00000001${finished.slice(8)}`;
    mkdirSync(join(work, 'tl2'));
    copyFileSync(join(good.into, 'pg_wal', finished), join(work, 'tl2', underTl1));
    const forged = await cli(['wal-push', '--repo', zrepo, '--allow-root', join(work, 'tl2', underTl1)]);
    expect(forged.code).toBe(2);
    expect(forged.stderr).toContain(`dbdrill: ${underTl1} was not archived: it holds WAL of timeline 2, but its name says timeline 1;`);
    await restores.stop(good.report!.pid);

    const mid = marked[1]!;
    const file = join(tl1(zrepo), `${mid}.dbw`);
    flipMiddle(file, 512);
    expectAborted(await restores.restore('walrec-z', ['--to', 'latest']), mid, file);
  });
});
