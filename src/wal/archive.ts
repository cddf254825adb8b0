import { createHash, randomBytes } from 'node:crypto';
import { chownSync, closeSync, copyFileSync, fchownSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DbdrillError } from '../errors.js';
import { fsyncDir, mkdirDurable } from '../repo/atomic.js';
import { walFileKind, ZSTD_SUFFIX } from '../pitr/wal-names.js';
import { zstdCompressInto, zstdContentSha256, zstdDecompressInto } from '../runner/zstd.js';
import { archivePath, compressible, findArchived, walRoot, type Compression } from './layout.js';

/**
 * archive_command and restore_command. This path runs once per WAL segment for the life of a
 * server, so it imports nothing heavy and reads whole segments (16 MB) in one go.
 *
 * wal-push never replaces an archived file: the same content again is success (PostgreSQL retries
 * after a crash between copy and acknowledgement), different content is an error naming both
 * checksums. Content means the uncompressed bytes, whichever form either copy is stored in. It
 * fsyncs the file and its directory before reporting success.
 */
export interface PushResult {
  name: string;
  path: string;
  /** Uncompressed size and checksum: what PostgreSQL handed over. */
  bytes: number;
  sha256: string;
  compressed: boolean;
  /** Size in the repository (smaller than bytes when compressed). */
  storedBytes: number;
  alreadyArchived: boolean;
}

export interface PushOptions {
  compress?: Compression;
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** Checksum of an archived file's content, decompressing a .zst on the way. */
async function contentSha256(path: string, compressed: boolean): Promise<string> {
  return compressed ? (await zstdContentSha256(path)).sha256 : sha256(readFileSync(path));
}

/** The same content is a retry that already succeeded; different content must never replace it. */
async function compareArchived(repo: string, name: string, at: { path: string; compressed: boolean }, data: Buffer, sum: string): Promise<PushResult> {
  const have = await contentSha256(at.path, at.compressed);
  if (have === sum) {
    const storedBytes = at.compressed ? statSync(at.path).size : data.length;
    return { name, path: at.path, bytes: data.length, sha256: sum, compressed: at.compressed, storedBytes, alreadyArchived: true };
  }
  throw new DbdrillError(
    'failed',
    `${name} is already archived with different contents (archived sha256 ${have}, new sha256 ${sum}); it was not overwritten — check whether two servers archive into ${repo}.`,
    { name, archived: have, incoming: sum },
  );
}

/**
 * The server's user when root pushes by hand (a history file, say) into a wal/ that belongs to
 * it: restore_command runs as that user and must be able to read what root archived.
 */
function walOwner(repo: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const st = statSync(walRoot(repo));
    return st.uid !== 0 ? { uid: st.uid, gid: st.gid } : undefined;
  } catch {
    return undefined;
  }
}

export async function walPush(repo: string, source: string, opts: PushOptions = {}): Promise<PushResult> {
  const name = basename(source);
  if (!walFileKind(name)) {
    throw new DbdrillError('invalid-input', `"${name}" is not a WAL segment, history, backup or partial file name; archive_command must pass %p.`);
  }
  let data: Buffer;
  try {
    data = readFileSync(source);
  } catch (e) {
    throw new DbdrillError('invalid-input', `Cannot read ${source} (${errno(e)}); archive_command must pass %p, the path relative to the data directory.`);
  }
  const sum = sha256(data);
  // A retry is the common case after a crash: answer it without writing anything.
  const existing = findArchived(repo, name);
  if (existing) return compareArchived(repo, name, existing, data, sum);

  const compressed = opts.compress === 'zstd' && compressible(name);
  const dest = archivePath(repo, name) + (compressed ? ZSTD_SUFFIX : '');
  const dir = dirname(dest);
  const owner = walOwner(repo);
  for (const d of mkdirDurable(dir)) if (owner) chownSync(d, owner.uid, owner.gid);
  const tmp = join(dir, `.${basename(dest)}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    if (compressed) zstdCompressInto(data, fd);
    else for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    if (e instanceof DbdrillError) throw e;
    throw new DbdrillError('failed', `Could not write ${name} into ${dir} (${errno(e)}); free space or fix permissions there.`);
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
      throw new DbdrillError('failed', `Could not archive ${name} into ${dir} (${errno(e)}); fix permissions or space there.`);
    }
    lost = true;
  }
  rmSync(tmp, { force: true });
  fsyncDir(dir);
  if (lost) return compareArchived(repo, name, { path: dest, compressed }, data, sum);
  const storedBytes = compressed ? statSync(dest).size : data.length;
  return { name, path: dest, bytes: data.length, sha256: sum, compressed, storedBytes, alreadyArchived: false };
}

/**
 * restore_command: copies an archived file to where PostgreSQL asks, decompressing a .zst; false
 * when it is not archived. The copy is fsynced before the rename and the directory after it, so
 * PostgreSQL never replays a file that a crash could still take back.
 */
export function walFetch(repo: string, name: string, target: string): boolean {
  const src = findArchived(repo, name);
  if (!src) return false;
  const tmp = `${target}.dbdrill-fetch`;
  try {
    if (!src.compressed) copyFileSync(src.path, tmp);
    const fd = openSync(tmp, src.compressed ? 'w' : 'r+', 0o600);
    try {
      if (src.compressed) zstdDecompressInto(src.path, fd);
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
