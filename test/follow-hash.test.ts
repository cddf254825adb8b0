import { execFile } from 'node:child_process';
import { renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checksumFiles, sha256File } from '../src/repo/checksum.js';
import { FollowHash } from '../src/repo/follow-hash.js';
import { tempConfigDir } from './helpers/cli.js';

const run = promisify(execFile);

describe('hashing a file while another process writes it', () => {
  let tmp: ReturnType<typeof tempConfigDir>;
  beforeEach(() => {
    tmp = tempConfigDir();
  });
  afterEach(() => tmp.cleanup());

  it('matches a fresh read of the finished file, even when started before the file exists', async () => {
    const file = join(tmp.dir, 'base.tar');
    const f = new FollowHash(file, 5);
    // 40 random chunks of 256 KiB with pauses, so the reader catches up with the writer many times.
    await run('sh', ['-c', `for i in $(seq 1 40); do head -c 262144 /dev/urandom; sleep 0.01; done >> '${file}'`]);
    const followed = await f.finish();
    expect(followed).toEqual(await sha256File(file));
    expect(followed!.bytes).toBe(40 * 262144);
  });

  it('gives up on a file replaced or truncated meanwhile, and checksumFiles then reads it afresh', async () => {
    const a = join(tmp.dir, 'a.tar');
    const b = join(tmp.dir, 'b.tar');
    writeFileSync(a, Buffer.alloc(3 << 20, 1));
    const replaced = new FollowHash(a, 5);
    writeFileSync(b, Buffer.alloc(1 << 20, 2));
    await new Promise((r) => setTimeout(r, 100));
    renameSync(b, a);
    const map = new Map([['a.tar', replaced]]);
    const [sum] = await checksumFiles(tmp.dir, ['a.tar'], map);
    expect(sum).toEqual({ path: 'a.tar', ...(await sha256File(a)) });
    expect(sum!.bytes).toBe(1 << 20);

    const c = join(tmp.dir, 'c.tar');
    writeFileSync(c, Buffer.alloc(2 << 20, 3));
    const truncated = new FollowHash(c, 5);
    await new Promise((r) => setTimeout(r, 100));
    truncateSync(c, 1000);
    expect(await truncated.finish()).toBeUndefined();
  });
});
