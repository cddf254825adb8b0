import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fchownSync, fstatSync, fsync, linkSync, openSync, read, readSync, rmSync, write, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { basename } from 'node:path';
import { DbdrillError, invalid } from '../errors.js';
import { DBW_SUFFIX, timelineHex, walFileKind } from '../pitr/wal-names.js';
import { mkdirDurable } from '../repo/atomic.js';
import { zstdFileIntoFd, zstdPipe, zstdSync } from '../runner/zstd.js';
import { agePipe } from '../runner/age-pipe.js';
import { encryptArgs } from '../crypto/age-args.js';
import { ENCRYPTION_FILE, readRecipients } from '../repo/encryption-file.js';
import { parseHistory } from '../pitr/history.js';
import { checkBranchSegment, checkSegmentBelongs, checkSegmentHead, checkSegmentSize, checkSmallFile, type SegmentHead } from './content.js';
import { ARCHIVE_FACTS_FILE, recordedFacts, recordFacts } from './facts.js';
import { DBW_HEADER_BYTES, encodeDbwHeader, placeholderHeader, type Encoding } from './format.js';
import { compressible, timelineDirOf, type Compression } from './layout.js';
import { removeOrphanTemps } from './orphans.js';
import { CREATE_FLAGS, Dir, UnsafePath } from './safe-dir.js';
import { CHUNK_BYTES, closeStored, openStored, readDbwHeader, readStoredInto, readStoredSync, WHOLE_FILE_MAX, type StoredFile } from './stored.js';


/**
 * fsync on libuv's thread pool, not the event loop: the batch worker's pushers then overlap one
 * segment's wait for the disk with another's reading and hashing (with fsyncSync, two "parallel"
 * pushers took turns).
 */
const fsyncAsync = promisify(fsync);
const writeAsync = promisify(write);
const readAsync = promisify(read);

/**
 * archive_command. This path runs once per WAL segment for the life of a server, so it imports
 * nothing heavy (no pg, execa or zod); a 16 MB segment is handled in memory, one up to 1 GB streams.
 *
 * wal-push stores only what is what its name says (a segment whose first page names this
 * position, timeline and server; a parseable history or backup file), under one name per WAL
 * file, `<name>.dbw`, whatever the compression: link(2) failing with EEXIST is the no-overwrite
 * rule across every form. The same content again is success (PostgreSQL retries after a crash
 * between copy and acknowledgement); different content is an error naming both checksums.
 * Content means the uncompressed bytes. It fsyncs the file and its directory before success.
 */
export interface PushResult {
  name: string;
  path: string;
  /** Uncompressed size and checksum: what PostgreSQL handed over. */
  bytes: number;
  sha256: string;
  compressed: boolean;
  /** Size in the repository (the stored file, header included). */
  storedBytes: number;
  alreadyArchived: boolean;
}

export interface PushOptions {
  compress?: Compression;
  /** Root may write into a wal/ that belongs to the server's user (files are given to that user). */
  allowRoot?: boolean;
}

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

function writeAll(fd: number, buf: Buffer, position: number): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off, position + off);
}

async function writeAllAsync(fd: number, buf: Buffer, position: number): Promise<void> {
  for (let off = 0; off < buf.length; ) off += (await writeAsync(fd, buf, off, buf.length - off, position + off)).bytesWritten;
}

/** The file PostgreSQL handed over, open, with its first chunk read (the bytes that are checked are the bytes stored). */
interface Source {
  path: string;
  fd: number;
  size: number;
  /** Modification and change time when it was opened and its head checked. */
  changedMs: [number, number];
  head: Buffer;
}

function openSource(path: string): Source {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw invalid(`Cannot read ${path} (${errno(e)}); archive_command must pass %p, the path relative to the data directory.`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw invalid(`${path} is not a regular file; archive_command must pass %p, the file PostgreSQL completed.`);
  }
  const head = Buffer.allocUnsafe(Math.min(st.size, CHUNK_BYTES));
  let got = 0;
  while (got < head.length) {
    const n = readSync(fd, head, got, head.length - got, got);
    if (n === 0) break;
    got += n;
  }
  return { path, fd, size: st.size, changedMs: [st.mtimeMs, st.ctimeMs], head: head.subarray(0, got) };
}

/** Every byte of the source once, the checked head first. */
async function eachChunk(src: Source, fn: (c: Buffer) => Promise<void> | void): Promise<number> {
  let total = 0;
  let c = src.head;
  while (c.length > 0) {
    await fn(c);
    total += c.length;
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    c = buf.subarray(0, readSync(src.fd, buf, 0, CHUNK_BYTES, total));
  }
  return total;
}

function refuse(name: string, source: string, reason: string): DbdrillError {
  return invalid(`${name} was not archived: ${reason}; archive_command must hand over the file PostgreSQL completed (%p), so check what wrote ${source}.`);
}

/** What the bytes are: a segment's first page header, or a whole small file that parses. */
function checkContent(name: string, src: Source): SegmentHead | undefined {
  const kind = walFileKind(name);
  if (kind === 'history' || kind === 'backup-label') {
    const r = src.size > src.head.length ? `it is ${src.size} bytes, far larger than a ${kind === 'history' ? 'timeline history' : 'backup history'} file` : checkSmallFile(name, src.head);
    if (r) throw refuse(name, src.path, r);
    return undefined;
  }
  const head = checkSegmentHead(name, src.head);
  if (typeof head === 'string') throw refuse(name, src.path, head);
  const r = checkSegmentSize(head.segmentBytes, src.size);
  if (r) throw refuse(name, src.path, r);
  return head;
}

interface Target {
  root: Dir;
  wal: Dir;
  dir: Dir;
  owner: { uid: number; gid: number } | undefined;
  close(): void;
}

/**
 * The directory `name` goes into, created when missing, never through a symlink. Root may write
 * into a wal/ that belongs to the server's user only when told to: that user could have planted
 * links there, and what root writes must stay readable by restore_command (it is chowned).
 */
function openTarget(repo: string, name: string, allowRoot: boolean): Target {
  const opened: Dir[] = [];
  const close = () => {
    for (const d of opened.reverse()) d.close();
  };
  try {
    let root: Dir;
    try {
      root = Dir.openRoot(repo);
    } catch (e) {
      if (!(e instanceof UnsafePath) || e.code !== 'ENOENT') throw e;
      try {
        mkdirDurable(repo);
      } catch (m) {
        throw new DbdrillError('failed', `${name} was not archived: the repository ${repo} does not exist and cannot be created (${errno(m)}); create it or fix permissions on its parent.`);
      }
      root = Dir.openRoot(repo);
    }
    opened.push(root);
    const wal = root.child('wal', { create: true });
    opened.push(wal);
    const st = fstatSync(wal.fd);
    let owner: Target['owner'];
    if (process.getuid?.() === 0 && st.uid !== 0) {
      if (!allowRoot) {
        throw invalid(`wal-push runs as root, but ${wal.path} belongs to uid ${st.uid} (the server's user); run it as that user, as archive_command does, or pass --allow-root to write files owned by that user.`);
      }
      owner = { uid: st.uid, gid: st.gid };
    }
    const tl = timelineDirOf(name);
    let dir = wal;
    if (tl) {
      dir = wal.child(tl, { create: true, onCreate: (p) => owner && fchownPath(p, owner) });
      opened.push(dir);
    }
    return { root, wal, dir, owner, close };
  } catch (e) {
    close();
    if (e instanceof UnsafePath) {
      const link = e.message.includes('symbolic link');
      const notDir = e.message.endsWith('is not a directory');
      const fix = link ? `the archive's directories must be real directories inside ${repo}` : notDir ? (e.path === repo ? 'point --repo at a directory' : 'it must be a directory') : 'fix permissions or free space there';
      const sentence = `${name} was not archived: ${e.message}; ${fix}.`;
      throw link || notDir ? invalid(sentence) : new DbdrillError('failed', sentence);
    }
    throw e;
  }
}

function fchownPath(path: string, owner: { uid: number; gid: number }): void {
  const fd = openSync(path, 'r');
  try {
    fchownSync(fd, owner.uid, owner.gid);
  } finally {
    closeSync(fd);
  }
}

/**
 * A segment from another server, or with another segment size, than the archive records is
 * refused (the first one records them), and so is an older timeline's WAL under a newer
 * timeline's name, except in the segment where that timeline began.
 */
function checkAgainstArchive(t: Target, name: string, head: SegmentHead): void {
  const check = () => {
    const known = recordedFacts(t.root, t.wal);
    for (const k of known) {
      const r = checkSegmentBelongs(head, k);
      if (r) throw invalid(`${name} was not archived: ${r} (recorded in ${k.source}); give each server its own repository.`);
    }
    return known;
  };
  const known = check();
  if (!known.some((k) => k.source.endsWith(`/${ARCHIVE_FACTS_FILE}`))) {
    try {
      recordFacts(t.wal, { walSegmentBytes: head.segmentBytes, systemId: head.systemId }, t.owner);
    } catch (e) {
      throw new DbdrillError('failed', `${name} was not archived: could not record the archive's segment size and system in ${t.wal.path}/${ARCHIVE_FACTS_FILE} (${errno(e)}); free space or fix permissions there.`);
    }
    // Another server's first push may have won the race to record its facts.
    check();
  }
  const nameTimeline = parseInt(name.slice(0, 8), 16);
  if (head.timeline !== nameTimeline) {
    const f = openStored(t.wal, `${timelineHex(nameTimeline)}.history`);
    let history;
    try {
      history = f ? parseHistory(readStoredSync(f, known).toString('utf8')) : undefined;
    } finally {
      closeStored(f);
    }
    const r = checkBranchSegment(name, head, history);
    if (r) throw invalid(`${name} was not archived: ${r}; check what wrote this file.`);
  }
}

/** The content sha256 of what is already stored under `name` (a legacy copy is decoded into an unlinked temp file to be checked). */
async function storedSha256(f: StoredFile, t: Target): Promise<{ sha256: string; compressed: boolean }> {
  if (f.form === 'dbw') {
    const h = readDbwHeader(f);
    return { sha256: h.sha256, compressed: h.encoding.includes('zstd') };
  }
  const tmp = `.${f.name}.${randomBytes(4).toString('hex')}.tmp`;
  let fd: number;
  try {
    fd = openSync(t.dir.at(tmp), CREATE_FLAGS, 0o600);
  } catch (e) {
    throw new DbdrillError('failed', `Could not compare ${f.name} with its archived copy: no temp file in ${t.dir.path} (${errno(e)}); free space or fix permissions there.`);
  }
  rmSync(t.dir.at(tmp), { force: true });
  try {
    await readStoredInto(f, recordedFacts(t.root, t.wal), fd);
    return { sha256: hashFile(fd, 0).sha256, compressed: f.form === 'zst' };
  } finally {
    closeSync(fd);
  }
}

async function sourceSha256(src: Source): Promise<string> {
  const h = createHash('sha256');
  await eachChunk(src, (c) => {
    h.update(c);
  });
  return h.digest('hex');
}

/** The same content is a retry that already succeeded; different content must never replace it. */
async function compareWith(repo: string, t: Target, f: StoredFile, src: Source, sum: string): Promise<PushResult> {
  const have = await storedSha256(f, t);
  if (have.sha256 === sum) {
    return { name: f.name, path: f.path, bytes: src.size, sha256: sum, compressed: have.compressed, storedBytes: f.size, alreadyArchived: true };
  }
  throw new DbdrillError(
    'failed',
    `${f.name} is already archived with different contents (archived sha256 ${have.sha256}, new sha256 ${sum}); it was not overwritten — check whether two servers archive into ${repo}.`,
    { name: f.name, archived: have.sha256, incoming: sum },
  );
}

/**
 * The whole source in memory (it fits: WHOLE_FILE_MAX), the checked head first, read on the
 * thread pool: a segment PostgreSQL closed a while ago is often no longer in the page cache, and
 * a synchronous read of it kept the event loop waiting on the disk (about 55 ms per 16 MB here)
 * while the batch's other pusher could have been hashing.
 */
async function readAll(src: Source): Promise<Buffer> {
  const data = Buffer.allocUnsafe(src.size);
  src.head.copy(data);
  let got = src.head.length;
  while (got < data.length) {
    const { bytesRead } = await readAsync(src.fd, data, got, data.length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return data.subarray(0, got);
}

/** sha256 and size of an open file's bytes from `from` on. */
function hashFile(fd: number, from: number): { bytes: number; sha256: string } {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let pos = from;
  for (;;) {
    const n = readSync(fd, buf, 0, CHUNK_BYTES, pos);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return { bytes: pos - from, sha256: h.digest('hex') };
}

interface Payload {
  bytes: number;
  sha256: string;
  storedBytes: number;
  storedSha256: string;
  encoding: Encoding[];
}

/**
 * The encrypted payload: the source (compressed first when it fits in memory) through
 * `age -e -r …` straight into `fd` after the placeholder, the plain bytes hashed on their way in
 * and the stored ciphertext hashed back, so verify checks it without a key. No plaintext is written.
 */
async function writeSealed(fd: number, src: Source, compress: boolean, recipients: readonly string[]): Promise<Payload> {
  let pos = DBW_HEADER_BYTES;
  const stored = createHash('sha256');
  const age = agePipe(encryptArgs(recipients), (c) => {
    stored.update(c);
    writeAll(fd, c, pos);
    pos += c.length;
  });
  try {
    const plain = createHash('sha256');
    let bytes: number;
    const zstd = compress && src.size <= WHOLE_FILE_MAX;
    if (zstd) {
      const data = await readAll(src);
      plain.update(data);
      bytes = data.length;
      await age.write(zstdSync('compress', data, data.length + (1 << 20)));
    } else {
      bytes = await eachChunk(src, async (c) => {
        plain.update(c);
        await age.write(c);
      });
    }
    await age.end();
    return { bytes, sha256: plain.digest('hex'), storedBytes: pos - DBW_HEADER_BYTES, storedSha256: stored.digest('hex'), encoding: zstd ? ['zstd', 'age'] : ['age'] };
  } catch (e) {
    age.kill();
    throw e;
  }
}

/**
 * Writes the payload (the source, or it compressed) after the header placeholder in `fd` and
 * returns both checksums, the source's taken from the very bytes that are stored or compressed:
 * to compress a file that fits in memory, zstd writes straight into `fd` in one call (then the
 * stored bytes are hashed back from the page cache); otherwise it streams in chunks, through a
 * zstd pipe when compressing.
 */
async function writePayload(fd: number, src: Source, compress: boolean, recipients?: readonly string[]): Promise<Payload> {
  if (recipients) return writeSealed(fd, src, compress, recipients);
  if (compress && src.size <= WHOLE_FILE_MAX) {
    // zstd reads the segment itself through this descriptor while this process reads and hashes
    // it too; the file must not change in between (PostgreSQL never writes a completed segment),
    // and if it did after its head was checked, its size or change time says so and nothing is stored.
    const compressed = zstdFileIntoFd(src.fd, fd);
    let data: Buffer;
    try {
      data = await readAll(src);
    } finally {
      await compressed.catch(() => undefined);
    }
    await compressed;
    const sha256 = createHash('sha256').update(data).digest('hex');
    const after = fstatSync(src.fd);
    if (after.size !== src.size || after.mtimeMs !== src.changedMs[0] || after.ctimeMs !== src.changedMs[1]) {
      throw invalid(`${src.path} changed while it was being archived; nothing was stored. archive_command must be handed a file PostgreSQL completed.`);
    }
    const stored = hashFile(fd, DBW_HEADER_BYTES);
    return { bytes: data.length, sha256, storedBytes: stored.bytes, storedSha256: stored.sha256, encoding: ['zstd'] };
  }
  if (!compress && src.size <= WHOLE_FILE_MAX) {
    const data = await readAll(src);
    // The write goes on the thread pool while this thread hashes the same bytes.
    const written = writeAllAsync(fd, data, DBW_HEADER_BYTES);
    const sha256 = createHash('sha256').update(data).digest('hex');
    await written;
    return { bytes: data.length, sha256, storedBytes: data.length, storedSha256: sha256, encoding: [] };
  }
  const plain = createHash('sha256');
  // Stored as it is, the payload's checksum is the file's: no second hash over the same bytes.
  const stored = compress ? createHash('sha256') : undefined;
  let pos = DBW_HEADER_BYTES;
  const store = (c: Buffer) => {
    stored?.update(c);
    writeAll(fd, c, pos);
    pos += c.length;
  };
  const pipe = compress ? zstdPipe('compress', store) : undefined;
  try {
    const bytes = await eachChunk(src, async (c) => {
      plain.update(c);
      if (pipe) await pipe.write(c);
      else store(c);
    });
    if (pipe) await pipe.end();
    const sha256 = plain.digest('hex');
    return { bytes, sha256, storedBytes: pos - DBW_HEADER_BYTES, storedSha256: stored?.digest('hex') ?? sha256, encoding: compress ? ['zstd'] : [] };
  } catch (e) {
    pipe?.kill();
    throw e;
  }
}

/** Header placeholder, payload, then the real header, fsync. */
async function writeTemp(t: Target, tmp: string, src: Source, compress: boolean, recipients?: readonly string[]): Promise<{ sha256: string; storedBytes: number; compressed: boolean }> {
  let fd: number;
  try {
    fd = openSync(t.dir.at(tmp), CREATE_FLAGS, 0o600);
  } catch (e) {
    throw new DbdrillError('failed', `Could not write ${basename(src.path)} into ${t.dir.path} (${errno(e)}); free space or fix permissions there.`);
  }
  try {
    if (t.owner) fchownSync(fd, t.owner.uid, t.owner.gid);
    // Without a position: the file offset moves past the placeholder, where zstd (given fd) writes.
    writeSync(fd, placeholderHeader());
    const p = await writePayload(fd, src, compress, recipients);
    if (p.bytes !== src.size) throw invalid(`${src.path} changed size while it was being archived (${src.size} bytes, then ${p.bytes}); nothing was stored.`);
    writeAll(fd, encodeDbwHeader({ name: basename(src.path), bytes: p.bytes, sha256: p.sha256, encoding: p.encoding, storedBytes: p.storedBytes, storedSha256: p.storedSha256 }), 0);
    await fsyncAsync(fd);
    return { sha256: p.sha256, storedBytes: DBW_HEADER_BYTES + p.storedBytes, compressed: p.encoding.includes('zstd') };
  } catch (e) {
    rmSync(t.dir.at(tmp), { force: true });
    if (e instanceof DbdrillError) throw e;
    throw new DbdrillError('failed', `Could not write ${basename(src.path)} into ${t.dir.path} (${errno(e)}); free space or fix permissions there.`);
  } finally {
    closeSync(fd);
  }
}

/** The repository's age recipients (encryption.json), or undefined; unreadable is a failure, never plain. */
function recipientsOf(t: Target): string[] | undefined {
  try {
    return readRecipients(t.root.at(ENCRYPTION_FILE));
  } catch (e) {
    throw new DbdrillError('failed', `Could not archive into ${t.root.path}: ${(e as Error).message}; let the server's user read it (it holds public keys only).`);
  }
}

export async function walPush(repo: string, source: string, opts: PushOptions = {}): Promise<PushResult> {
  const name = basename(source);
  const kind = walFileKind(name);
  if (!kind) {
    throw invalid(`"${name}" is not a WAL segment, history, backup or partial file name; archive_command must pass %p.`);
  }
  const src = openSource(source);
  try {
    const head = checkContent(name, src);
    const t = openTarget(repo, name, opts.allowRoot === true);
    try {
      if (head) checkAgainstArchive(t, name, head);
      const existing = openStored(t.dir, name);
      if (existing) {
        // A retry is the common case after a crash: answer it without writing anything.
        try {
          return await compareWith(repo, t, existing, src, await sourceSha256(src));
        } finally {
          closeStored(existing);
        }
      }
      const file = name + DBW_SUFFIX;
      const tmp = `.${file}.${randomBytes(4).toString('hex')}.tmp`;
      // History and backup-label files hold timeline switch points and a backup's label, no rows:
      // they stay readable so that planning a restore (timelines, window) needs no key.
      const sealed = kind === 'segment' || kind === 'partial' ? recipientsOf(t) : undefined;
      const written = await writeTemp(t, tmp, src, opts.compress === 'zstd' && compressible(name), sealed);
      const compressed = written.compressed;
      // link(2) never replaces an existing name: if a concurrent push won, EEXIST says so atomically.
      let lost = false;
      try {
        linkSync(t.dir.at(tmp), t.dir.at(file));
      } catch (e) {
        if (errno(e) !== 'EEXIST') {
          rmSync(t.dir.at(tmp), { force: true });
          throw new DbdrillError('failed', `Could not archive ${name} into ${t.dir.path} (${errno(e)}); fix permissions or space there.`);
        }
        lost = true;
      }
      rmSync(t.dir.at(tmp), { force: true });
      await fsyncAsync(t.dir.fd);
      // Temp files of killed pushes: cleaned now and then (every 16th segment), not on every push.
      if (kind !== 'segment' || name.endsWith('0')) removeOrphanTemps(t.dir);
      if (lost) {
        const winner = openStored(t.dir, name);
        if (!winner) throw new DbdrillError('failed', `${name} was archived by another push and then removed from ${t.dir.path}; push it again.`);
        try {
          return await compareWith(repo, t, winner, src, written.sha256);
        } finally {
          closeStored(winner);
        }
      }
      return { name, path: `${t.dir.path}/${file}`, bytes: src.size, sha256: written.sha256, compressed, storedBytes: written.storedBytes, alreadyArchived: false };
    } finally {
      t.close();
    }
  } finally {
    closeSync(src.fd);
  }
}
