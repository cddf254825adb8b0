import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChecksumMismatchError, sha256File, VerifyingRead, type FileSum } from '../src/repo/checksum.js';
import { runTool } from '../src/runner/run.js';
import { tempConfigDir } from './helpers/cli.js';

/** A backup file read by a real tool through the verifying stream. */
describe('a backup file streamed into a tool, verified while it is read', () => {
  let tmp: ReturnType<typeof tempConfigDir>;
  let rec: FileSum;
  const SIZE = 3 * (1 << 20) + 12345;
  beforeEach(async () => {
    tmp = tempConfigDir();
    writeFileSync(join(tmp.dir, 'base.tar'), randomBytes(SIZE));
    rec = { path: 'base.tar', ...(await sha256File(join(tmp.dir, 'base.tar'))) };
  });
  afterEach(() => tmp.cleanup());

  const flip = (offset: number) => {
    const file = join(tmp.dir, 'base.tar');
    const b = readFileSync(file);
    b[offset] = b[offset]! ^ 0x01;
    writeFileSync(file, b);
  };
  const copyThrough = (read: VerifyingRead, out: string) => runTool({ tool: 'cat', args: [], stdin: { stream: read.stream() }, stdout: { file: out } });

  it('hands every byte on when the file matches', async () => {
    const read = new VerifyingRead(tmp.dir, rec);
    const out = join(tmp.dir, 'copy');
    await copyThrough(read, out);
    await read.finish();
    expect(readFileSync(out).equals(readFileSync(join(tmp.dir, 'base.tar')))).toBe(true);
  });

  it('stops the tool short of the last chunk when a byte differs, and names the file', async () => {
    flip(1000);
    const read = new VerifyingRead(tmp.dir, rec);
    const out = join(tmp.dir, 'copy');
    const err = await copyThrough(read, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as Error).message).toBe('base.tar: checksum differs');
    // The tool never got the whole input: the held-back last chunk was not handed on.
    expect(statSync(out).size).toBeLessThanOrEqual(SIZE - (SIZE % (1 << 20)));
    await expect(read.finish()).rejects.toThrow('base.tar: checksum differs');
  });

  it('a file of another size fails before the first byte is handed on', async () => {
    writeFileSync(join(tmp.dir, 'base.tar'), readFileSync(join(tmp.dir, 'base.tar')).subarray(0, SIZE - 1));
    const read = new VerifyingRead(tmp.dir, rec);
    const out = join(tmp.dir, 'copy');
    await expect(copyThrough(read, out)).rejects.toThrow(`base.tar: size (expected ${SIZE} bytes, found ${SIZE - 1} bytes)`);
    expect(statSync(out).size).toBe(0);
  });

  it('when the tool stops reading early, finish() hashes the rest: a flip past what it read is still found', async () => {
    const r1 = new VerifyingRead(tmp.dir, rec);
    const ok = await runTool({ tool: 'head', args: ['-c', '100'], stdin: { stream: r1.stream() }, capture: true });
    expect(ok.stdout.length).toBeGreaterThan(0);
    await r1.finish();

    flip(SIZE - 10);
    const r2 = new VerifyingRead(tmp.dir, rec);
    await runTool({ tool: 'head', args: ['-c', '100'], stdin: { stream: r2.stream() }, capture: true });
    await expect(r2.finish()).rejects.toThrow('base.tar: checksum differs');
  });

  it('a missing file is named as missing', async () => {
    const read = new VerifyingRead(tmp.dir, { ...rec, path: 'pg_wal.tar' });
    await expect(read.finish()).rejects.toThrow(`pg_wal.tar: missing (expected ${SIZE} bytes, found no file)`);
  });
});
