import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DbdrillError } from '../errors.js';
import { fsyncDir, mkdirDurable } from '../repo/atomic.js';
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
  // A retry is the common case after a crash: answer it without writing anything.
  if (existsSync(dest)) return compareArchived(repo, name, dest, data, sum);
  const dir = dirname(dest);
  mkdirDurable(dir);
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
  // link(2) never replaces an existing name: if a concurrent push won, EEXIST says so atomically,
  // where checking for the file and then renaming would let the later push overwrite it.
  let lost = false;
  try {
    linkSync(tmp, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      rmSync(tmp, { force: true });
      throw new DbdrillError('failed', `Could not archive ${name} into ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); fix permissions or space there.`);
    }
    lost = true;
  }
  rmSync(tmp, { force: true });
  fsyncDir(dir);
  if (lost) return compareArchived(repo, name, dest, data, sum);
  return { name, path: dest, bytes: data.length, sha256: sum, alreadyArchived: false };
}

/** The same bytes are a retry that already succeeded; different bytes must never replace them. */
function compareArchived(repo: string, name: string, dest: string, data: Buffer, sum: string): PushResult {
  const have = sha256(readFileSync(dest));
  if (have === sum) return { name, path: dest, bytes: data.length, sha256: sum, alreadyArchived: true };
  throw new DbdrillError(
    'failed',
    `${name} is already archived with different contents (archived sha256 ${have}, new sha256 ${sum}); it was not overwritten — check whether two servers archive into ${repo}.`,
    { name, archived: have, incoming: sum },
  );
}

/**
 * restore_command: copies an archived file to where PostgreSQL asks; false when it is not
 * archived. The copy is fsynced before the rename and the directory after it, so PostgreSQL never
 * replays a file that a crash could still take back.
 */
export function walFetch(repo: string, name: string, target: string): boolean {
  const src = archivePath(repo, name);
  if (!existsSync(src)) return false;
  const tmp = `${target}.dbdrill-fetch`;
  try {
    copyFileSync(src, tmp);
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(target));
  return true;
}
