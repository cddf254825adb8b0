import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, serverAccount } from '../src/sandbox/users.js';
import { CLI, runCli } from './helpers/cli.js';
import { sandboxRunDir } from './helpers/sandbox.js';
import { flipByte, flipMiddle, sharedSegments } from './helpers/wal-files.js';

/**
 * wal-fetch as restore_command: exit 0 only for a copy proven intact, 1 only for "not archived
 * and nothing after it" (PostgreSQL's end of the archive), 255 for everything else so that
 * recovery aborts instead of ending early. Real segments from the suite's PostgreSQL.
 */
const work = join(sandboxRunDir(), `wal-fetch-${process.pid}`);
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { timeoutMs: 60_000, env });
/** What segments above 64 MB go through: the streaming path, here with 16 MB ones. */
const STREAM = { DBDRILL_WAL_STREAM_ABOVE: '0' };
let segs: string[];
let names: string[];
let repo = '';
let n = 0;
const tl = (r: string) => join(r, 'wal', '00000001');
const FATAL_TAIL = /; recovery stops here instead of ending early — .+\.\n$/;

/** A copy of the good repository to damage. */
function copyRepo(): string {
  const to = join(work, `copy-${n++}`);
  cpSync(repo, to, { recursive: true });
  return to;
}

/** Fetches into a fresh path and checks that a failure leaves nothing there or beside it. */
async function fetchInto(r: string, name: string, env: Record<string, string> = {}) {
  const dir = join(work, `out-${n++}`);
  mkdirSync(dir);
  const target = join(dir, 'RECOVERYXLOG');
  const res = await cli(['wal-fetch', '--repo', r, name, target], env);
  if (res.code !== 0) expect(readdirSync(dir)).toEqual([]);
  else expect(readdirSync(dir)).toEqual(['RECOVERYXLOG']);
  return { ...res, target };
}

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  segs = await sharedSegments(4, join(work, 'segs'));
  names = segs.map((s) => basename(s));
  repo = join(work, 'repo');
  for (const [i, s] of segs.entries()) {
    const r = await cli(['wal-push', '--repo', repo, ...(i % 2 ? ['--compress', 'zstd'] : []), s]);
    expect(r.code, r.stderr).toBe(0);
  }
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('wal-fetch', () => {
  it('gives back the exact bytes of plain and compressed copies', async () => {
    for (const [i, name] of names.entries()) {
      const r = await fetchInto(repo, name);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(readFileSync(r.target).equals(readFileSync(segs[i]!))).toBe(true);
    }
  });

  it('refuses names that are not WAL file names without reading anything (exit 255)', async () => {
    writeFileSync(join(work, 'secret'), 'secret');
    for (const bad of ['../../../../../../etc/shadow', '../../../secret', `${names[0]}/../../../secret`, '00000001/../../secret', 'RECOVERYXLOG', '', 'x\ny']) {
      const r = await fetchInto(repo, bad);
      expect(r.code, bad).toBe(255);
      expect(r.stderr, bad).toBe(`dbdrill wal-fetch: ${JSON.stringify(bad)} cannot be restored: it is not a WAL segment, history, backup or partial file name, so nothing was read; recovery stops here instead of ending early — restore_command must pass %f.\n`);
    }
  });

  it('exits 255 with one sentence when the repository is missing, not a repository, or unknown', async () => {
    const name = names[0]!;
    const gone = join(work, 'no-such-repo');
    const r = await fetchInto(gone, name);
    expect(r.code).toBe(255);
    expect(r.stderr).toBe(`dbdrill wal-fetch: ${name} cannot be restored: the repository ${gone} does not exist; recovery stops here instead of ending early — point --repo at the dbdrill repository that holds the archive.\n`);

    const empty = join(work, 'empty-dir');
    mkdirSync(empty);
    const e = await fetchInto(empty, name);
    expect(e.code).toBe(255);
    expect(e.stderr).toBe(`dbdrill wal-fetch: ${name} cannot be restored: ${empty} is not a dbdrill repository (it has neither repo.json nor wal/archive.json); recovery stops here instead of ending early — point --repo at the dbdrill repository that holds the archive.\n`);

    // A repository of backups taken without WAL archiving: nothing is archived, which is no error.
    writeFileSync(join(empty, 'repo.json'), '{}');
    for (const f of [name, '00000002.history']) {
      const none = await fetchInto(empty, f);
      expect(none.code, f).toBe(1);
      expect(none.stderr, f).toBe('');
    }

    const bare = join(work, 'bare');
    mkdirSync(join(bare, 'wal', '00000001'), { recursive: true });
    const b = await fetchInto(bare, name);
    expect(b.code).toBe(255);
    expect(b.stderr).toContain(`${bare} is not a dbdrill repository (it has neither repo.json nor wal/archive.json)`);

    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    const f = await fetchInto(file, name);
    expect(f.code).toBe(255);
    expect(f.stderr).toContain(`${name} cannot be restored: ${file} is not a directory`);

    const unknown = await cli(['wal-fetch', 'no-such-target', name, join(work, 'x'), '--config', join(work, 'cfg')]);
    expect(unknown.code).toBe(255);
    expect(unknown.stderr).toMatch(/^dbdrill wal-fetch: .*no-such-target.*\n$/);
    const usage = await cli(['wal-fetch', '--repo', repo, name]);
    expect(usage.code).toBe(255);
    expect(usage.stderr).toMatch(/^dbdrill wal-fetch: Expected 2 argument\(s\) after --repo; usage: /);
  });

  it('a flipped bit, a truncation or a copy under the wrong name exits 255 naming the file and writes nothing', async () => {
    const file = (r: string, name: string) => join(tl(r), `${name}.dbw`);
    const cases: [string, (r: string) => void, string, RegExp][] = [
      ['bit flip in a plain copy', (r) => flipByte(file(r, names[0]!), 512 + 0x150123), names[0]!, /is corrupt: the sha256 of its stored bytes is [0-9a-f]{64}, its header records [0-9a-f]{64}/],
      ['bit flip in a zstd copy', (r) => flipMiddle(file(r, names[1]!), 512), names[1]!, /is corrupt: the sha256 of its stored bytes is [0-9a-f]{64}, its header records [0-9a-f]{64}/],
      ['truncated plain copy', (r) => truncateSync(file(r, names[2]!), 512 + 8 * 1024 * 1024), names[2]!, /is truncated: 8388608 payload bytes where its header records 16777216/],
      ['truncated zstd copy', (r) => truncateSync(file(r, names[1]!), 512 + Math.floor((statSync(file(r, names[1]!)).size - 512) / 2)), names[1]!, /is truncated: \d+ payload bytes where its header records \d+/],
      ['zstd copy with bytes appended', (r) => appendFileSync(file(r, names[3]!), 'more'), names[3]!, /is longer than recorded: \d+ payload bytes where its header records \d+/],
      ['header cut off', (r) => truncateSync(file(r, names[0]!), 100), names[0]!, /is damaged: it is 100 bytes, shorter than its 512-byte header/],
    ];
    for (const [what, damage, name, reason] of cases) {
      const r = copyRepo();
      damage(r);
      const res = await fetchInto(r, name);
      expect(res.code, what).toBe(255);
      expect(res.stderr, what).toMatch(new RegExp(`^dbdrill wal-fetch: ${name} cannot be restored: its archived copy ${file(r, name).replace(/[.]/g, '\\.')} ${reason.source}`));
      expect(res.stderr, what).toMatch(FATAL_TAIL);
      expect(res.stderr.split('\n'), what).toHaveLength(2);
    }
    // A copy of one segment renamed to another's name: its header names the original.
    const r = copyRepo();
    unlinkSync(file(r, names[2]!));
    cpSync(file(r, names[0]!), file(r, names[2]!));
    const renamed = await fetchInto(r, names[2]!);
    expect(renamed.code).toBe(255);
    expect(renamed.stderr).toContain(`its archived copy ${file(r, names[2]!)} holds ${names[0]} (a renamed file)`);
  });

  it('reads legacy copies (plain <segment>, <segment>.zst), checking what can be checked', async () => {
    const legacy = join(work, 'legacy');
    mkdirSync(tl(legacy), { recursive: true });
    writeFileSync(join(legacy, 'repo.json'), '{}');
    writeFileSync(join(tl(legacy), names[0]!), readFileSync(segs[0]!));
    expect(spawnSync('zstd', ['-q', '-o', join(tl(legacy), `${names[1]}.zst`), segs[1]!]).status).toBe(0);
    // Another segment's bytes under a name (what a careless copy by hand leaves).
    writeFileSync(join(tl(legacy), names[2]!), readFileSync(segs[3]!));
    for (const i of [0, 1]) {
      const r = await fetchInto(legacy, names[i]!);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(r.target).equals(readFileSync(segs[i]!))).toBe(true);
    }
    const wrong = await fetchInto(legacy, names[2]!);
    expect(wrong.code).toBe(255);
    expect(wrong.stderr).toContain(`${names[2]} cannot be restored: its archived copy ${join(tl(legacy), names[2]!)} is not that file: it starts at WAL position`);
    flipMiddle(join(tl(legacy), `${names[1]}.zst`));
    const flipped = await fetchInto(legacy, names[1]!);
    expect(flipped.code).toBe(255);
    expect(flipped.stderr).toMatch(new RegExp(`^dbdrill wal-fetch: ${names[1]} cannot be restored: its archived copy .*${names[1]}\\.zst does not decompress \\(zstd exited with code 1`));
    truncateSync(join(tl(legacy), names[0]!), 8 * 1024 * 1024);
    const torn = await fetchInto(legacy, names[0]!);
    expect(torn.code).toBe(255);
    expect(torn.stderr).toContain('is not that file: it is 8388608 bytes, but its header declares 16777216-byte segments');
  });

  it('tells a gap (exit 255, naming the next archived segment) from the end of the archive (exit 1, silent)', async () => {
    const r = copyRepo();
    unlinkSync(join(tl(r), `${names[1]}.dbw`));
    const gap = await fetchInto(r, names[1]!);
    expect(gap.code).toBe(255);
    expect(gap.stderr).toBe(`dbdrill wal-fetch: ${names[1]} cannot be restored: it is missing from the archive while the later segment ${names[2]} of timeline 1 is archived: a gap in the WAL; recovery stops here instead of ending early — put the missing segment back into ${tl(r)}, or restore to a point before it.\n`);

    unlinkSync(join(tl(r), `${names[3]}.dbw`));
    const last = await fetchInto(r, names[3]!);
    expect(last.code).toBe(1);
    expect(last.stderr).toBe('');
    const next = `00000001${(BigInt(`0x${names[3]!.slice(8)}`) + 1n).toString(16).toUpperCase().padStart(16, '0')}`;
    expect((await fetchInto(r, next)).code).toBe(1);
    const otherTimeline = await fetchInto(r, `00000009${names[0]!.slice(8)}`);
    expect(otherTimeline.code).toBe(1);
    const history = await fetchInto(r, '00000002.history');
    expect(history.code).toBe(1);
    expect(history.stderr).toBe('');
  });

  it('the streaming path (segments above 64 MB) stores and checks the same way', async () => {
    const r = join(work, 'streamed');
    for (const [i, s] of segs.entries()) {
      const p = await cli(['wal-push', '--repo', r, ...(i % 2 ? ['--compress', 'zstd'] : []), s], STREAM);
      expect(p.code, p.stderr).toBe(0);
    }
    for (const [i, name] of names.entries()) {
      // The stored form does not depend on the path that wrote it: each reads the other's.
      expect(readFileSync(join(tl(r), `${name}.dbw`)).equals(readFileSync(join(tl(repo), `${name}.dbw`))), name).toBe(true);
      const f = await fetchInto(repo, name, STREAM);
      expect(f.code, f.stderr).toBe(0);
      expect(readFileSync(f.target).equals(readFileSync(segs[i]!))).toBe(true);
    }
    const file = (name: string) => join(tl(r), `${name}.dbw`);
    flipMiddle(file(names[1]!), 512);
    truncateSync(file(names[3]!), 512 + Math.floor((statSync(file(names[3]!)).size - 512) / 2));
    flipMiddle(file(names[2]!), 512);
    for (const [name, reason] of [[names[1]!, 'is corrupt: the sha256 of its stored bytes is'], [names[3]!, 'is truncated:'], [names[2]!, 'is corrupt: the sha256 of its stored bytes is']] as const) {
      const f = await fetchInto(r, name, STREAM);
      expect(f.code, name).toBe(255);
      expect(f.stderr, name).toContain(`${name} cannot be restored: its archived copy ${file(name)} ${reason}`);
    }
    const legacy = join(work, 'streamed-legacy');
    mkdirSync(tl(legacy), { recursive: true });
    writeFileSync(join(legacy, 'repo.json'), '{}');
    expect(spawnSync('zstd', ['-q', '-o', join(tl(legacy), `${names[1]}.zst`), segs[1]!]).status).toBe(0);
    const ok = await fetchInto(legacy, names[1]!, STREAM);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(ok.target).equals(readFileSync(segs[1]!))).toBe(true);
    flipMiddle(join(tl(legacy), `${names[1]}.zst`));
    const bad = await fetchInto(legacy, names[1]!, STREAM);
    expect(bad.code).toBe(255);
    expect(bad.stderr).toContain(`${names[1]}.zst does not decompress (zstd exited with code 1`);
  });

  it.runIf(isRoot())("exits 255 when the server's user cannot read the repository", async () => {
    const account = serverAccount('postgres')!;
    const out = join(work, 'pg-out');
    mkdirSync(out);
    chownSync(out, account.uid, account.gid);
    const r = spawnSync('runuser', ['-u', 'postgres', '--', process.execPath, CLI, 'wal-fetch', '--repo', repo, names[0]!, join(out, 'RECOVERYXLOG')], { encoding: 'utf8' });
    expect(r.status).toBe(255);
    expect(r.stderr).toMatch(new RegExp(`^dbdrill wal-fetch: ${names[0]} cannot be restored: .* cannot be opened by this user \\(EACCES\\); recovery stops here instead of ending early — let the server's user .*\\.\\n$`));
    expect(existsSync(join(out, 'RECOVERYXLOG'))).toBe(false);
  });
});
