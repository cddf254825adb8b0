import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPidAlive } from '../src/runner/process.js';
import { isRoot, serverAccount } from '../src/sandbox/users.js';
import { prepareWalDir } from '../src/wal/layout.js';
import { orphanTempFiles } from '../src/wal/orphans.js';
import { CLI, runCli } from './helpers/cli.js';
import { sandboxRunDir, sharedPostgres, withPg } from './helpers/sandbox.js';
import { readDbw, sharedSegments } from './helpers/wal-files.js';

/**
 * wal-push against junk, races, planted symlinks and root, with real 16 MB segments that the
 * suite's PostgreSQL archived. Every refusal must leave the archive as it was.
 */
const work = join(sandboxRunDir(), `wal-push-${process.pid}`);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { timeoutMs: 60_000, env });
let n = 0;
const freshRepo = () => join(work, `repo-${n++}`);
const tlDir = (repo: string, name: string) => join(repo, 'wal', name.slice(0, 8));
const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
let segs: string[];
let systemId = '';

/** Writes `data` under `name` in a directory of its own and returns the path. */
function fileNamed(name: string, data: Buffer | string): string {
  const dir = join(work, `src-${n++}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), data);
  return join(dir, name);
}

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  chmodSync(work, 0o755);
  segs = await sharedSegments(4, join(work, 'segs'));
  systemId = await withPg(sharedPostgres(), async (c) => String((await c.query('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0].id));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('wal-push stores only what the name says', () => {
  it('refuses 0 bytes, random bytes, another segment and a torn copy with one sentence, and stores nothing', async () => {
    const name = basename(segs[1]!);
    const repo = freshRepo();
    const real = readFileSync(segs[1]!);
    const other = readFileSync(segs[2]!);
    const want = (BigInt(`0x${name.slice(8, 16)}`) << 32n) + BigInt(`0x${name.slice(16)}`) * 16777216n;
    const pos = (p: bigint) => `${(p >> 32n).toString(16).toUpperCase()}/${(p & 0xffffffffn).toString(16).toUpperCase()}`;
    const cases: [string, Buffer, string][] = [
      ['empty', Buffer.alloc(0), 'it is empty (0 bytes)'],
      ['1000 random bytes', randomBytes(1000), 'its first page has '],
      ['16 MB of random bytes', randomBytes(16 * 1024 * 1024), 'its first page has '],
      ['another segment', other, `it starts at WAL position ${pos(want + 16777216n)}, but its name means ${pos(want)}: these are another segment's bytes`],
      ['the first half', real.subarray(0, 8 * 1024 * 1024), 'it is 8388608 bytes, but its header declares 16777216-byte segments'],
    ];
    for (const [what, data, reason] of cases) {
      const src = fileNamed(name, data);
      const r = await cli(['wal-push', '--repo', repo, src]);
      expect(r.code, what).toBe(2);
      expect(r.stderr, what).toContain(`dbdrill: ${name} was not archived: ${reason}`);
      expect(r.stderr, what).toMatch(/; archive_command must hand over the file PostgreSQL completed \(%p\), so check what wrote .+\.\n$/);
      expect(r.stderr.split('\n').length, what).toBe(2);
      expect(list(tlDir(repo, name)), what).toEqual([]);
    }

    const ok = await cli(['wal-push', '--repo', repo, segs[1]!, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name, alreadyArchived: false, compressed: false, bytes: real.length, sha256: sha(real) });
    expect(list(tlDir(repo, name))).toEqual([`${name}.dbw`]);
    const stored = readDbw(join(tlDir(repo, name), `${name}.dbw`));
    expect(stored.header).toEqual({ name, bytes: real.length, sha256: sha(real), encoding: [], storedBytes: real.length, storedSha256: sha(real) });
    expect(stored.payload.equals(real)).toBe(true);
    expect(JSON.parse(readFileSync(join(repo, 'wal', 'archive.json'), 'utf8'))).toEqual({ format: 'dbdrill-wal-archive', formatVersion: 1, walSegmentBytes: 16777216, systemId });

    const again = await cli(['wal-push', '--repo', repo, '--compress', 'zstd', segs[1]!, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyArchived: true, compressed: false, sha256: sha(real) });
    expect(list(tlDir(repo, name))).toEqual([`${name}.dbw`]);
  });

  it("refuses a segment of another server, and an older timeline's WAL under a newer timeline's name", async () => {
    // repo.json as a backup writes it, naming the server the repository belongs to.
    const repo = freshRepo();
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, 'repo.json'), JSON.stringify({ format: 'dbdrill-repo', formatVersion: 1, engine: 'postgres', target: 'x', systemId: '7000000000000000001', createdAt: new Date().toISOString() }));
    const name = basename(segs[0]!);
    const r = await cli(['wal-push', '--repo', repo, segs[0]!]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`dbdrill: ${name} was not archived: it comes from database system ${systemId}, but this archive holds system 7000000000000000001 (recorded in ${repo}/repo.json); give each server its own repository.\n`);
    expect(list(tlDir(repo, name))).toEqual([]);

    // Timeline 1 WAL under a timeline 2 name: genuine only in the segment where timeline 2 began.
    const repo2 = freshRepo();
    const tl1 = basename(segs[1]!);
    const tl2 = `00000002${tl1.slice(8)}`;
    const forged = fileNamed(tl2, readFileSync(segs[1]!));
    const lsnOf = (seg: string, off: number) => `${parseInt(seg.slice(8, 16), 16).toString(16).toUpperCase()}/${(parseInt(seg.slice(16), 16) * 16777216 + off).toString(16).toUpperCase()}`;
    const elsewhere = lsnOf(basename(segs[3]!), 0x100);
    const h = await cli(['wal-push', '--repo', repo2, fileNamed('00000002.history', `1\t${elsewhere}\tno recovery target specified\n`)]);
    expect(h.code, h.stderr).toBe(0);
    const outside = await cli(['wal-push', '--repo', repo2, forged]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toBe(`dbdrill: ${tl2} was not archived: it holds WAL of timeline 1 under a timeline 2 name, but 00000002.history says timeline 2 began at ${elsewhere}, outside this segment; check what wrote this file.\n`);
    expect(list(tlDir(repo2, tl2))).toEqual([]);

    // Where the switch really is in this segment, the copy PostgreSQL makes is accepted.
    const repo3 = freshRepo();
    const inside = lsnOf(tl1, 0x2000);
    expect((await cli(['wal-push', '--repo', repo3, fileNamed('00000002.history', `1\t${inside}\tno recovery target specified\n`)])).code).toBe(0);
    const branch = await cli(['wal-push', '--repo', repo3, forged]);
    expect(branch.code, branch.stderr).toBe(0);
    expect(list(tlDir(repo3, tl2))).toEqual([`${tl2}.dbw`]);
  });

  it('refuses history and backup files that do not parse', async () => {
    const repo = freshRepo();
    for (const [name, text, reason] of [
      ['00000002.history', 'hello\n', 'its line "hello" is not "timeline<TAB>LSN<TAB>reason"'],
      ['00000003.history', '', 'it is empty (0 bytes)'],
      ['000000010000000000000003.00000028.backup', 'START WAL LOCATION: 0/4000028 (file 000000010000000000000004)\nSTOP WAL LOCATION: 0/4000100 (file 000000010000000000000004)\n', 'it describes a backup starting in 000000010000000000000004, not 000000010000000000000003'],
    ] as const) {
      const r = await cli(['wal-push', '--repo', repo, fileNamed(name, text)]);
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toContain(`dbdrill: ${name} was not archived: ${reason}; `);
    }
    expect(list(join(repo, 'wal')).filter((f) => f !== '00000001')).toEqual([]);
    expect(list(join(repo, 'wal', '00000001'))).toEqual([]);
  });
});

describe('one stored form per WAL file', () => {
  it('a plain and a zstd push of different contents racing for one name: exactly one is stored (10 rounds)', async () => {
    const name = basename(segs[0]!);
    const a = readFileSync(segs[0]!);
    const b = Buffer.from(a);
    b[8 * 1024 * 1024] = b[8 * 1024 * 1024]! ^ 0xff;
    const files = [fileNamed(name, a), fileNamed(name, b)];
    const sums = [sha(a), sha(b)];
    for (let round = 0; round < 10; round++) {
      const repo = freshRepo();
      const zstdFirst = round % 2 === 1;
      const rs = await Promise.all(files.map((f, i) => cli(['wal-push', '--repo', repo, ...((i === 0) === zstdFirst ? ['--compress', 'zstd'] : []), f])));
      expect(rs.map((r) => r.code).sort(), `round ${round}: ${rs.map((r) => r.stderr).join(' | ')}`).toEqual([0, 1]);
      const won = rs.findIndex((r) => r.code === 0);
      const lost = rs[1 - won]!;
      expect(lost.stderr).toBe(
        `dbdrill: ${name} is already archived with different contents (archived sha256 ${sums[won]}, new sha256 ${sums[1 - won]}); it was not overwritten — check whether two servers archive into ${repo}.\n`,
      );
      expect(list(tlDir(repo, name)), `round ${round}`).toEqual([`${name}.dbw`]);
      const stored = readDbw(join(tlDir(repo, name), `${name}.dbw`));
      expect(stored.header.sha256).toBe(sums[won]);
      expect(stored.header.encoding).toEqual((won === 0) === zstdFirst ? ['zstd'] : []);
      const out = join(work, `race-out-${round}`);
      const f = await cli(['wal-fetch', '--repo', repo, name, out]);
      expect(f.code, f.stderr).toBe(0);
      expect(sha(readFileSync(out))).toBe(sums[won]);
    }
  }, 240_000);

  it('a segment rewritten while a zstd push reads it: refused, or stored with the checksum of exactly the bytes stored — never a lie', async () => {
    const name = basename(segs[1]!);
    const path = fileNamed(name, readFileSync(segs[1]!));
    // zstd reads the segment itself while wal-push hashes its own read of it. A writer that has no
    // business there keeps changing bytes past the checked first page (same size, new mtime; each
    // pass over its 4096 places writes a new value).
    const writer = spawn(
      process.execPath,
      ['-e', `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(path)}, 'r+'); const b = Buffer.alloc(1); for (let i = 0; ; i++) { b[0] = (i >> 12) & 255; fs.writeSync(fd, b, 0, 1, ${8 * 1024 * 1024} + (i % 4096) * 512); }`],
      { stdio: 'ignore' },
    );
    try {
      let refused = 0;
      for (let round = 0; round < 6; round++) {
        const repo = freshRepo();
        const r = await cli(['wal-push', '--repo', repo, '--compress', 'zstd', path]);
        if (r.code !== 0) {
          expect(r.stderr).toMatch(/changed (while it was being archived|size while)/);
          expect(list(tlDir(repo, name)).filter((f) => !f.startsWith('.'))).toEqual([]);
          refused++;
          continue;
        }
        // Stored: wal-fetch checks the bytes it hands over against the header's sha256.
        const out = join(work, `changing-out-${round}`);
        const f = await cli(['wal-fetch', '--repo', repo, name, out]);
        expect(f.code, f.stderr).toBe(0);
        expect(sha(readFileSync(out))).toBe(readDbw(join(tlDir(repo, name), `${name}.dbw`)).header.sha256);
      }
      expect(refused).toBeGreaterThan(0);
    } finally {
      writer.kill('SIGKILL');
    }
  }, 120_000);

  it('a push finding a legacy plain or .zst copy compares content and never writes a second form', async () => {
    const name = basename(segs[2]!);
    const data = readFileSync(segs[2]!);
    for (const legacy of [name, `${name}.zst`]) {
      const repo = freshRepo();
      mkdirSync(tlDir(repo, name), { recursive: true });
      const at = join(tlDir(repo, name), legacy);
      if (legacy.endsWith('.zst')) {
        expect(spawnSync('zstd', ['-q', '-o', at, segs[2]!]).status, legacy).toBe(0);
      } else writeFileSync(at, data);
      const same = await cli(['wal-push', '--repo', repo, '--compress', 'zstd', segs[2]!, '--json']);
      expect(same.code, same.stderr).toBe(0);
      expect(JSON.parse(same.stdout)).toMatchObject({ alreadyArchived: true, sha256: sha(data), path: at });
      const changed = Buffer.from(data);
      changed[10_000_000] = changed[10_000_000]! ^ 1;
      const diff = await cli(['wal-push', '--repo', repo, fileNamed(name, changed)]);
      expect(diff.code).toBe(1);
      expect(diff.stderr).toContain(`${name} is already archived with different contents (archived sha256 ${sha(data)}, new sha256 ${sha(changed)})`);
      expect(list(tlDir(repo, name))).toEqual([legacy]);
    }
  });
});

describe('symlinks and root', () => {
  it('never writes or reads through a symlink planted in the archive', async () => {
    const name = basename(segs[0]!);
    const outside = join(work, 'outside');
    mkdirSync(outside, { recursive: true });

    // wal/<timeline> -> a directory outside the repository.
    const repo = freshRepo();
    mkdirSync(join(repo, 'wal'), { recursive: true });
    writeFileSync(join(repo, 'repo.json'), '{}');
    symlinkSync(outside, tlDir(repo, name));
    const r = await cli(['wal-push', '--repo', repo, segs[0]!]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`dbdrill: ${name} was not archived: ${tlDir(repo, name)} is a symbolic link, which dbdrill never follows inside the archive; the archive's directories must be real directories inside ${repo}.\n`);
    expect(readdirSync(outside)).toEqual([]);
    writeFileSync(join(outside, `${name}.dbw`), 'planted');
    const target = join(work, 'fetched-through-link');
    const f = await cli(['wal-fetch', '--repo', repo, name, target]);
    expect(f.code).toBe(255);
    expect(f.stderr).toContain(`dbdrill wal-fetch: ${name} cannot be restored: ${tlDir(repo, name)} is a symbolic link, which dbdrill never follows inside the archive`);
    expect(existsSync(target)).toBe(false);

    // wal/ itself a symlink.
    const repo2 = freshRepo();
    mkdirSync(repo2, { recursive: true });
    symlinkSync(outside, join(repo2, 'wal'));
    const r2 = await cli(['wal-push', '--repo', repo2, segs[0]!]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`${join(repo2, 'wal')} is a symbolic link`);
    expect(readdirSync(outside)).toEqual([`${name}.dbw`]);

    // The stored file a symlink to a file outside: neither push nor fetch touches it.
    const repo3 = freshRepo();
    mkdirSync(tlDir(repo3, name), { recursive: true });
    writeFileSync(join(repo3, 'repo.json'), '{}');
    const secret = join(outside, 'secret');
    writeFileSync(secret, 'secret');
    symlinkSync(secret, join(tlDir(repo3, name), `${name}.dbw`));
    const r3 = await cli(['wal-push', '--repo', repo3, segs[0]!]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain(`${name} cannot be read from the archive: ${join(tlDir(repo3, name), `${name}.dbw`)} is a symbolic link`);
    const f3 = await cli(['wal-fetch', '--repo', repo3, name, target]);
    expect(f3.code).toBe(255);
    expect(existsSync(target)).toBe(false);
    expect(readFileSync(secret, 'utf8')).toBe('secret');
  });

  it.runIf(isRoot())("as root, refuses a wal/ that belongs to the server's user unless --allow-root, then gives it the files", async () => {
    const account = serverAccount('postgres')!;
    const repo = freshRepo();
    mkdirSync(repo, { recursive: true });
    prepareWalDir(repo, account);
    const name = basename(segs[0]!);
    const r = await cli(['wal-push', '--repo', repo, segs[0]!]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`dbdrill: wal-push runs as root, but ${join(repo, 'wal')} belongs to uid ${account.uid} (the server's user); run it as that user, as archive_command does, or pass --allow-root to write files owned by that user.\n`);
    expect(list(join(repo, 'wal'))).toEqual([]);
    const ok = await cli(['wal-push', '--repo', repo, '--allow-root', segs[0]!]);
    expect(ok.code, ok.stderr).toBe(0);
    for (const p of [tlDir(repo, name), join(tlDir(repo, name), `${name}.dbw`), join(repo, 'wal', 'archive.json')]) {
      expect(statSync(p).uid, p).toBe(account.uid);
    }
  });
});

describe("permissions, as the server's user", () => {
  it.runIf(isRoot())('a repository it cannot write gets one sentence and exit 1, never an internal error', async () => {
    const name = basename(segs[0]!);
    const asPostgres = (repo: string) => spawnSync('runuser', ['-u', 'postgres', '--', process.execPath, CLI, 'wal-push', '--repo', repo, segs[0]!], { encoding: 'utf8' });
    const repo = freshRepo();
    mkdirSync(join(repo, 'wal'), { recursive: true, mode: 0o755 });
    chmodSync(repo, 0o755);
    chmodSync(join(repo, 'wal'), 0o755);
    const noTimelineDir = asPostgres(repo);
    expect(noTimelineDir.status).toBe(1);
    expect(noTimelineDir.stderr).toBe(`dbdrill: ${name} was not archived: ${tlDir(repo, name)} cannot be created by this user (EACCES); fix permissions or free space there.\n`);
    mkdirSync(tlDir(repo, name), { mode: 0o755 });
    chmodSync(tlDir(repo, name), 0o755);
    // wal/archive.json cannot be written either: the first check that needs to write says so.
    const noWrite = asPostgres(repo);
    expect(noWrite.status).toBe(1);
    expect(noWrite.stderr).toBe(`dbdrill: ${name} was not archived: could not record the archive's segment size and system in ${join(repo, 'wal')}/archive.json (EACCES); free space or fix permissions there.\n`);
    expect(list(tlDir(repo, name))).toEqual([]);

    const parent = join(work, 'locked-parent');
    mkdirSync(parent, { mode: 0o755 });
    chmodSync(parent, 0o755);
    const missing = asPostgres(join(parent, 'repo'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`dbdrill: ${name} was not archived: the repository ${join(parent, 'repo')} does not exist and cannot be created (EACCES); create it or fix permissions on its parent.\n`);

    const file = join(work, 'repo-is-a-file');
    writeFileSync(file, 'x');
    const notDir = await cli(['wal-push', '--repo', file, segs[0]!]);
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toBe(`dbdrill: ${name} was not archived: ${file} is not a directory; point --repo at a directory.\n`);
  });
});

describe('temp files of killed pushes', () => {
  it('a push killed mid-write leaves no stored file; the next push stores it; old temp files are removed and counted', async () => {
    const name = basename(segs[0]!);
    const repo = freshRepo();
    // A zstd that waits first, so the push is surely mid-write (header placeholder written) when killed.
    const bin = join(work, 'slow-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'zstd'), '#!/bin/sh\nsleep 30\nexec /usr/bin/zstd "$@"\n', { mode: 0o755 });
    const child = spawn(process.execPath, [CLI, 'wal-push', '--repo', repo, '--compress', 'zstd', segs[0]!], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, detached: true, stdio: 'ignore' });
    const dir = tlDir(repo, name);
    for (let i = 0; i < 200 && !list(dir).some((f) => f.endsWith('.tmp')); i++) await new Promise((r) => setTimeout(r, 50));
    process.kill(-child.pid!, 'SIGKILL');
    for (let i = 0; i < 100 && isPidAlive(child.pid!); i++) await new Promise((r) => setTimeout(r, 50));
    const left = list(dir);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(new RegExp(`^\\.${name}\\.dbw\\.[0-9a-f]{8}\\.tmp$`));
    const missing = await cli(['wal-fetch', '--repo', repo, name, join(work, 'killed-out')]);
    expect(missing.code).toBe(1);

    const again = await cli(['wal-push', '--repo', repo, segs[0]!]);
    expect(again.code, again.stderr).toBe(0);
    expect(list(dir)).toEqual([left[0], `${name}.dbw`].sort());
    // Fresh: it may belong to a running push, so it is neither an orphan nor removed.
    expect(orphanTempFiles(repo)).toEqual({ count: 0, bytes: 0 });
    expect(orphanTempFiles(repo, { minAgeMs: 0 }).count).toBe(1);

    const old = new Date(Date.now() - 20 * 60 * 1000);
    utimesSync(join(dir, left[0]!), old, old);
    const oldRoot = join(repo, 'wal', '.00000002.history.dbw.0badc0de.tmp');
    writeFileSync(oldRoot, Buffer.alloc(1000));
    utimesSync(oldRoot, old, old);
    const fresh = join(dir, `.${name}.dbw.12345678.tmp`);
    writeFileSync(fresh, 'x');
    const counted = orphanTempFiles(repo);
    expect(counted).toMatchObject({ count: 2, bytes: lstatSync(join(dir, left[0]!)).size + 1000 });
    expect(Math.abs(counted.oldest! - old.getTime())).toBeLessThan(1000);

    // A push into the timeline directory (here a backup history file) cleans it; a history push cleans wal/.
    const label = `START WAL LOCATION: ${name.slice(8, 16).replace(/^0+(?=.)/, '')}/${parseInt(name.slice(16), 16).toString(16).toUpperCase()}000028 (file ${name})\nSTOP WAL LOCATION: 0/0 (file ${name})\n`;
    const b = await cli(['wal-push', '--repo', repo, fileNamed(`${name}.00000028.backup`, label)]);
    expect(b.code, b.stderr).toBe(0);
    expect(list(dir)).toEqual([`.${name}.dbw.12345678.tmp`, `${name}.00000028.backup.dbw`, `${name}.dbw`].sort());
    const h = await cli(['wal-push', '--repo', repo, fileNamed('00000002.history', '1\t0/3000000\tno recovery target specified\n')]);
    expect(h.code, h.stderr).toBe(0);
    expect(existsSync(oldRoot)).toBe(false);
    expect(orphanTempFiles(repo)).toEqual({ count: 0, bytes: 0 });
  });
});
