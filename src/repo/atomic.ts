import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

/** fsync a directory so a rename inside it survives a crash. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * mkdir -p that survives a crash: a new directory's entry lives in its parent, so every parent
 * that gained an entry is fsynced, from the top-most new directory down. Returns the directories
 * it created, top-most first.
 */
export function mkdirDurable(path: string): string[] {
  const dir = resolve(path);
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return [];
  const created: string[] = [];
  for (let p = dir; ; p = dirname(p)) {
    created.push(p);
    if (p === first || dirname(p) === p) break;
  }
  created.reverse();
  for (const p of created) fsyncDir(dirname(p));
  return created;
}

/**
 * Writes a file so that readers see the old content or the new, never a torn one: a temp file in
 * the same directory, fsync, rename over the target, fsync the directory.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}
