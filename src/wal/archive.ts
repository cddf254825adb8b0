import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DbdrillError } from '../errors.js';
import { fsyncDir } from '../repo/atomic.js';
import { walFileKind } from '../pitr/wal-names.js';
import { archivePath } from './layout.js';

/**
 * archive_command and restore_command. This path runs once per WAL segment for the life of a
 * server, so it imports nothing heavy and reads whole segments (16 MB) in one go.
 *
 * wal-push never replaces an archived file: the same bytes again are success (PostgreSQL retries
 * after a crash between copy and acknowledgement), different bytes are an error naming both
 * checksums. It fsyncs the file and its directory before reporting success.
 */
export interface PushResult {
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  alreadyArchived: boolean;
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

export function walPush(repo: string, source: string): PushResult {
  const name = basename(source);
  if (!walFileKind(name)) {
    throw new DbdrillError('invalid-input', `"${name}" is not a WAL segment, history, backup or partial file name; archive_command must pass %p.`);
  }
  let data: Buffer;
  try {
    data = readFileSync(source);
  } catch (e) {
    throw new DbdrillError('invalid-input', `Cannot read ${source} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); archive_command must pass %p, the path relative to the data directory.`);
  }
  const dest = archivePath(repo, name);
  const sum = sha256(data);
  if (existsSync(dest)) {
    const have = sha256(readFileSync(dest));
    if (have === sum) return { name, path: dest, bytes: data.length, sha256: sum, alreadyArchived: true };
    throw new DbdrillError(
      'failed',
      `${name} is already archived with different contents (archived sha256 ${have}, new sha256 ${sum}); it was not overwritten — check whether two servers archive into ${repo}.`,
      { name, archived: have, incoming: sum },
    );
  }
  const dir = dirname(dest);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw new DbdrillError('failed', `Could not write ${name} into ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); free space or fix permissions there.`);
  }
  closeSync(fd);
  // A concurrent push of the same name may have won; a link-style check keeps "never overwrite".
  if (existsSync(dest)) {
    rmSync(tmp, { force: true });
    return walPush(repo, source);
  }
  renameSync(tmp, dest);
  fsyncDir(dir);
  return { name, path: dest, bytes: data.length, sha256: sum, alreadyArchived: false };
}

/** restore_command: copies an archived file to where PostgreSQL asks; false when it is not archived. */
export function walFetch(repo: string, name: string, target: string): boolean {
  const src = archivePath(repo, name);
  if (!existsSync(src)) return false;
  const tmp = `${target}.dbdrill-fetch`;
  copyFileSync(src, tmp);
  renameSync(tmp, target);
  return true;
}
