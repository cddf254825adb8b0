import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { sha256File } from '../repo/checksum.js';

/**
 * Files written into a copy directory (or a temp repository fetched from one): always under a
 * temp name first, fsynced, then renamed, so a copy killed mid-way leaves no file that looks
 * whole; the next run removes the temp names and sends the file again.
 */
export const TEMP_SUFFIX = '.copy-tmp';

export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

/** Copies src to a temp file next to `dest`, hashing on the way; returns the temp path and hash. */
export async function copyHashing(src: string, dest: string): Promise<{ tmp: string; sha256: string; bytes: number }> {
  mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
  const tmp = tempNameFor(dest);
  const hash = createHash('sha256');
  let bytes = 0;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    for await (const chunk of createReadStream(src, { highWaterMark: 1 << 20 })) {
      const b = chunk as Buffer;
      hash.update(b);
      bytes += b.length;
      let off = 0;
      while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
    }
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    rmSync(tmp, { force: true });
    throw e;
  }
  await fh.close();
  return { tmp, sha256: hash.digest('hex'), bytes };
}

export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Puts a finished temp file in place. */
export function commit(tmp: string, dest: string): void {
  renameSync(tmp, dest);
}

/** Reads a file back and hashes it: what is on the copy's disk, not what we meant to write. */
export async function readBack(path: string): Promise<{ sha256: string; bytes: number } | undefined> {
  try {
    return await sha256File(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Removes temp files a killed copy left anywhere under `dir`; returns how many. */
export function sweepTemps(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.startsWith('.') && e.name.endsWith(TEMP_SUFFIX)) {
        rmSync(p, { force: true });
        n++;
      }
    }
  };
  walk(dir);
  return n;
}
