import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { DbdrillError } from '../errors.js';
import { storedWalName, walFileKind } from '../pitr/wal-names.js';
import { zstdIntoFd, zstdPipe, zstdSync } from '../runner/zstd.js';
import { agePipe } from '../runner/age-pipe.js';
import { decryptFailure } from '../crypto/age-args.js';
import { checkSegmentBelongs, checkSegmentHead, checkSegmentSize, checkSmallFile, LONG_HEADER_BYTES } from './content.js';
import { ARCHIVE_FACTS_FILE, recordedFacts, type RecordedFacts } from './facts.js';
import { DBW_HEADER_BYTES, decodeDbwHeader, type DbwHeader } from './format.js';
import { storedForms, timelineDirOf, type StoredForm } from './layout.js';
import { describeFailure, Dir, READ_FLAGS, UnsafePath } from './safe-dir.js';

/**
 * Reading an archived WAL file so that what comes out is provably what was pushed: a `.dbw` copy
 * against the sizes and sha256 in its header, a legacy plain copy against its own first page
 * header (it has no recorded checksum), a legacy `.zst` against zstd's frame checksum and its
 * first page. The check runs on the bytes as they stream to the caller, never as a second pass;
 * the caller writes to a temp file and keeps it only when the read completes.
 */
export const CHUNK_BYTES = 1 << 20;
/**
 * Compressed files up to this size are handled in one zstd call; larger ones (up to 1 GB)
 * stream. DBDRILL_WAL_STREAM_ABOVE (bytes) lowers it so tests can drive the streaming path
 * with ordinary 16 MB segments.
 */
export const WHOLE_FILE_MAX = /^\d+$/.test(process.env.DBDRILL_WAL_STREAM_ABOVE ?? '') ? Number(process.env.DBDRILL_WAL_STREAM_ABOVE) : 64 << 20;
/** History and backup files are a few hundred bytes; anything near this is not one. */
const SMALL_FILE_MAX = 1 << 20;
const PUT_BACK = 'put back a good copy of that file (from a copy of the archive) or restore to a point before it';

/** An archived file that cannot be read or trusted: what is wrong, and what fixes it. */
export class ArchiveFault extends DbdrillError {
  constructor(readonly walName: string, readonly what: string, readonly fix: string) {
    super('failed', `${walName} cannot be read from the archive: ${what}; ${fix}.`, { name: walName });
  }

  /** The sentence restore_command prints (PostgreSQL copies it into its log). */
  forRecovery(): string {
    return `${this.walName} cannot be restored: ${this.what}; recovery stops here instead of ending early — ${this.fix}.`;
  }
}

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'EIO';
}

export interface StoredFile {
  name: string;
  form: StoredForm;
  /** For messages. */
  path: string;
  fd: number;
  size: number;
}

/** The stored copy of `name` in `dir`, open for reading, or undefined when none is there. */
export function openStored(dir: Dir, name: string): StoredFile | undefined {
  for (const { form, file } of storedForms(name)) {
    const path = `${dir.path}/${file}`;
    let fd: number;
    try {
      fd = openSync(dir.at(file), READ_FLAGS);
    } catch (e) {
      if (errno(e) === 'ENOENT') continue;
      const fix = errno(e) === 'EACCES' ? "let the server's user read the archive" : 'replace it with the archived file itself';
      throw new ArchiveFault(name, describeFailure(path, errno(e), 'file'), fix);
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      throw new ArchiveFault(name, `${path} is not a regular file`, 'replace it with the archived file itself');
    }
    return { name, form, path, fd, size: st.size };
  }
  return undefined;
}

export function closeStored(f: StoredFile | undefined): void {
  if (f) closeSync(f.fd);
}

/** The `.dbw` header of a stored copy; a fault when it is damaged or names another file. */
export function readDbwHeader(f: StoredFile): DbwHeader {
  const buf = Buffer.alloc(DBW_HEADER_BYTES);
  const n = readSync(f.fd, buf, 0, DBW_HEADER_BYTES, 0);
  const h = decodeDbwHeader(buf.subarray(0, n));
  if (typeof h === 'string') throw new ArchiveFault(f.name, `its archived copy ${f.path} is damaged: ${h}`, PUT_BACK);
  if (h.name !== f.name) throw new ArchiveFault(f.name, `its archived copy ${f.path} holds ${h.name} (a renamed file)`, PUT_BACK);
  return h;
}

const hex = (h: Hash) => h.digest('hex');

/**
 * What a read has seen: the stored bytes (as on disk after any header) and the plain bytes (what
 * the caller receives), checked against the header or, for legacy copies, against WAL content.
 */
class Verifier {
  readonly #stored = createHash('sha256');
  readonly #plain = createHash('sha256');
  #storedBytes = 0;
  #plainBytes = 0;
  #head = Buffer.alloc(0);
  #headChecked = false;
  #segmentBytes: number | undefined;
  /** Stored as it is: the stored bytes are the plain bytes, hashed once. */
  readonly #identity: boolean;
  /** Decoded by zstd, whose frame checksum vouches for the output: its hash is not recomputed. */
  #decodedByZstd = false;

  constructor(private readonly f: StoredFile, private readonly header: DbwHeader | undefined, private readonly known: RecordedFacts[]) {
    this.#identity = header ? header.encoding.length === 0 : f.form === 'plain';
  }

  stored(c: Buffer): void {
    if (this.header) this.#stored.update(c);
    this.#storedBytes += c.length;
  }

  plain(c: Buffer): void {
    if (!(this.#identity && this.header)) this.#plain.update(c);
    this.#plainBytes += c.length;
    this.#see(c);
  }

  /**
   * zstd decoded the stored bytes (already hashed against the header, when there is one) and
   * checked its own frame checksum on what it wrote: `bytes` long, starting with `head`.
   */
  decodedByZstd(bytes: number, head: Buffer): void {
    this.#decodedByZstd = true;
    this.#plainBytes = bytes;
    this.#see(head);
  }

  #see(c: Buffer): void {
    if (this.header) return;
    // A legacy copy carries no checksum: what it starts with is all there is to check.
    const kind = walFileKind(this.f.name);
    if (kind === 'history' || kind === 'backup-label') {
      if (this.#head.length <= SMALL_FILE_MAX) this.#head = Buffer.concat([this.#head, c]);
      return;
    }
    if (this.#headChecked) return;
    this.#head = Buffer.concat([this.#head, c.subarray(0, LONG_HEADER_BYTES - this.#head.length)]);
    if (this.#head.length >= LONG_HEADER_BYTES) this.#checkHead();
  }

  #checkHead(): void {
    this.#headChecked = true;
    const head = checkSegmentHead(this.f.name, this.#head);
    if (typeof head === 'string') throw this.#notThatFile(head);
    for (const k of this.known) {
      const r = checkSegmentBelongs(head, k);
      if (r) throw this.#notThatFile(`${r} (recorded in ${k.source})`);
    }
    this.#segmentBytes = head.segmentBytes;
  }

  #notThatFile(reason: string): ArchiveFault {
    return new ArchiveFault(this.f.name, `its archived copy ${this.f.path} is not that file: ${reason}`, PUT_BACK);
  }

  /** The stored bytes' checks alone (an encrypted copy read without its key). */
  finishStored(): void {
    const h = this.header!;
    const storedSha = hex(this.#stored);
    if (this.#storedBytes !== h.storedBytes) {
      const how = this.#storedBytes < h.storedBytes ? 'truncated' : 'longer than recorded';
      throw new ArchiveFault(this.f.name, `its archived copy ${this.f.path} is ${how}: ${this.#storedBytes} payload bytes where its header records ${h.storedBytes}`, PUT_BACK);
    }
    if (storedSha !== h.storedSha256) {
      throw new ArchiveFault(this.f.name, `its archived copy ${this.f.path} is corrupt: the sha256 of its stored bytes is ${storedSha}, its header records ${h.storedSha256}`, PUT_BACK);
    }
  }

  /** After the last byte: throws the fault that explains a mismatch, best explanation first. */
  finish(decodeError: unknown, undecodable?: (e: unknown) => ArchiveFault): { bytes: number; sha256: string } {
    const h = this.header;
    if (h) {
      const storedSha = hex(this.#stored);
      const sha256 = this.#identity ? storedSha : this.#decodedByZstd ? h.sha256 : hex(this.#plain);
      if (this.#storedBytes !== h.storedBytes) {
        const how = this.#storedBytes < h.storedBytes ? 'truncated' : 'longer than recorded';
        throw new ArchiveFault(this.f.name, `its archived copy ${this.f.path} is ${how}: ${this.#storedBytes} payload bytes where its header records ${h.storedBytes}`, PUT_BACK);
      }
      if (storedSha !== h.storedSha256) {
        throw new ArchiveFault(this.f.name, `its archived copy ${this.f.path} is corrupt: the sha256 of its stored bytes is ${storedSha}, its header records ${h.storedSha256}`, PUT_BACK);
      }
      if (decodeError !== undefined) throw (undecodable ?? ((e: unknown) => this.#undecodable(e)))(decodeError);
      if (this.#plainBytes !== h.bytes || sha256 !== h.sha256) {
        throw new ArchiveFault(this.f.name, `its archived copy ${this.f.path} decodes to ${this.#plainBytes} bytes with sha256 ${sha256}, not the ${h.bytes} bytes with sha256 ${h.sha256} its header records`, PUT_BACK);
      }
      return { bytes: this.#plainBytes, sha256 };
    }
    if (decodeError !== undefined) throw this.#undecodable(decodeError);
    // A legacy .zst decoded whole has no recorded checksum to report; none is needed to fetch it.
    const sha256 = this.#decodedByZstd ? '' : hex(this.#plain);
    const kind = walFileKind(this.f.name);
    if (kind === 'history' || kind === 'backup-label') {
      const r = checkSmallFile(this.f.name, this.#head);
      if (r) throw this.#notThatFile(r);
    } else {
      if (!this.#headChecked) this.#checkHead();
      const r = checkSegmentSize(this.#segmentBytes!, this.#plainBytes);
      if (r) throw this.#notThatFile(r);
    }
    return { bytes: this.#plainBytes, sha256 };
  }

  #undecodable(e: unknown): ArchiveFault {
    const why = e instanceof Error ? e.message.replace(/\.$/, '') : String(e);
    return new ArchiveFault(this.f.name, `its archived copy ${this.f.path} does not decompress (${why})`, PUT_BACK);
  }
}

function zstdEncoded(f: StoredFile, h: DbwHeader | undefined): boolean {
  return h ? h.encoding.includes('zstd') : f.form === 'zst';
}

/** zstd's own failures explain a damaged copy; anything else (the caller's full disk) is not the archive's fault. */
function isDecodeFailure(e: unknown): boolean {
  return e instanceof DbdrillError && e.code === 'tool-failed';
}

function readAt(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

function writeAt(fd: number, buf: Buffer, position: number): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off, position + off);
}

/** The stored bytes after any header, whole, seen by a new verifier. */
function loadWhole(f: StoredFile, h: DbwHeader | undefined, known: RecordedFacts[]): { v: Verifier; stored: Buffer } {
  const v = new Verifier(f, h, known);
  const from = h ? DBW_HEADER_BYTES : 0;
  const buf = Buffer.allocUnsafe(Math.max(0, f.size - from));
  const stored = buf.subarray(0, readAt(f.fd, buf, from));
  v.stored(stored);
  return { v, stored };
}

/**
 * Writes the checked plain content of `f` into the empty file `out` and returns its size and
 * sha256; throws an ArchiveFault when the copy is not what was pushed. Bytes reach `out` before
 * the end of the copy decides, so `out` must be a temp file the caller drops on a fault.
 * A compressed copy that fits in memory is read whole and zstd writes straight into `out`: the
 * sha256 of every stored byte and zstd's own frame checksum on what it wrote prove the output,
 * which is then not hashed a second time. A larger one streams through a pipe (and is hashed);
 * a plain one is copied in chunks.
 */
export async function readStoredInto(f: StoredFile, known: RecordedFacts[], out: number): Promise<{ bytes: number; sha256: string }> {
  const h = f.form === 'dbw' ? readDbwHeader(f) : undefined;
  if (h?.encoding.includes('age')) return readSealedInto(f, h, known, out);
  const zstd = zstdEncoded(f, h);
  if (zstd && f.size <= WHOLE_FILE_MAX + DBW_HEADER_BYTES) {
    const { v, stored } = loadWhole(f, h, known);
    let decodeError: unknown;
    try {
      zstdIntoFd('decompress', stored, out);
    } catch (e) {
      decodeError = e;
    }
    if (decodeError === undefined) {
      const head = Buffer.alloc(LONG_HEADER_BYTES);
      v.decodedByZstd(fstatSync(out).size, head.subarray(0, readAt(out, head, 0)));
    }
    return v.finish(decodeError);
  }
  const v = new Verifier(f, h, known);
  let written = 0;
  const emit = (c: Buffer) => {
    v.plain(c);
    writeAt(out, c, written);
    written += c.length;
  };
  const pipe = zstd ? zstdPipe('decompress', emit) : undefined;
  let decodeError: unknown;
  let pos = h ? DBW_HEADER_BYTES : 0;
  let buf = Buffer.allocUnsafe(CHUNK_BYTES);
  try {
    for (;;) {
      // A fresh buffer per chunk for the pipe, which may still hold the previous one.
      if (pipe) buf = Buffer.allocUnsafe(CHUNK_BYTES);
      const n = readSync(f.fd, buf, 0, CHUNK_BYTES, pos);
      if (n === 0) break;
      pos += n;
      const c = buf.subarray(0, n);
      v.stored(c);
      if (!pipe) emit(c);
      else if (decodeError === undefined) await pipe.write(c).catch((e: unknown) => (decodeError = e));
    }
    if (pipe && decodeError === undefined) await pipe.end().catch((e: unknown) => (decodeError = e));
  } catch (e) {
    pipe?.kill();
    throw e;
  }
  if (decodeError !== undefined && !isDecodeFailure(decodeError)) throw decodeError;
  return v.finish(decodeError);
}

/**
 * An encrypted copy: the stored bytes (hashed against the header) through `age -d -i IDENTITY`,
 * then zstd when it was compressed first, into `out`, the plain bytes hashed against the header.
 * The identity's path comes from DBDRILL_AGE_IDENTITY, set by the restore in the restored
 * server's environment (restore_command inherits it), never from argv.
 */
async function readSealedInto(f: StoredFile, h: DbwHeader, known: RecordedFacts[], out: number): Promise<{ bytes: number; sha256: string }> {
  const identity = process.env.DBDRILL_AGE_IDENTITY;
  if (!identity) throw new ArchiveFault(f.name, `its archived copy ${f.path} is encrypted with age and no identity was given`, 'run the restore with --identity FILE (or DBDRILL_AGE_IDENTITY), the private key matching the target\'s --encrypt-to');
  const v = new Verifier(f, h, known);
  let written = 0;
  const emit = (c: Buffer) => {
    v.plain(c);
    writeAt(out, c, written);
    written += c.length;
  };
  let decodeError: unknown;
  let ageError: unknown;
  const unzstd = h.encoding.includes('zstd') ? zstdPipe('decompress', emit) : undefined;
  const age = agePipe(['-d', '-i', identity], (c) => {
    if (!unzstd) emit(c);
    else if (decodeError === undefined) unzstd.write(c).catch((e: unknown) => (decodeError ??= e));
  });
  let pos = DBW_HEADER_BYTES;
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      const n = readSync(f.fd, buf, 0, CHUNK_BYTES, pos);
      if (n === 0) break;
      pos += n;
      const c = buf.subarray(0, n);
      v.stored(c);
      if (ageError === undefined) await age.write(c).catch((e: unknown) => (ageError = e));
    }
    if (ageError === undefined) await age.end().catch((e: unknown) => (ageError = e));
    if (unzstd && decodeError === undefined) await unzstd.end().catch((e: unknown) => (decodeError = e));
  } catch (e) {
    age.kill();
    unzstd?.kill();
    throw e;
  }
  if (ageError !== undefined && !isDecodeFailure(ageError)) throw ageError;
  if (decodeError !== undefined && !isDecodeFailure(decodeError)) throw decodeError;
  // The stored bytes' checks come first (damage at rest); then why age could not open them.
  return v.finish(ageError ?? decodeError, ageError === undefined ? undefined : (e) =>
    new ArchiveFault(f.name, `its archived copy ${f.path} could not be decrypted: ${decryptFailure(e instanceof Error ? e.message : String(e), identity)}`, 'give the restore --identity with the private key matching the target\'s --encrypt-to'),
  );
}

/**
 * An encrypted copy checked without its key (verify with no identity): its stored bytes against
 * the header's size and sha256, which catches any damage at rest; the plain bytes are not read.
 */
export function checkSealedStored(f: StoredFile): { bytes: number } {
  const h = readDbwHeader(f);
  const v = new Verifier(f, h, []);
  let pos = DBW_HEADER_BYTES;
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  for (;;) {
    const n = readSync(f.fd, buf, 0, CHUNK_BYTES, pos);
    if (n === 0) break;
    pos += n;
    v.stored(buf.subarray(0, n));
  }
  v.finishStored();
  return { bytes: h.bytes };
}

/** The checked content of a small file (history and backup files), in memory. */
export function readStoredSync(f: StoredFile, known: RecordedFacts[]): Buffer {
  if (f.size > SMALL_FILE_MAX + DBW_HEADER_BYTES) throw new ArchiveFault(f.name, `its archived copy ${f.path} is ${f.size} bytes, too large for a ${walFileKind(f.name)} file`, PUT_BACK);
  const h = f.form === 'dbw' ? readDbwHeader(f) : undefined;
  const { v, stored } = loadWhole(f, h, known);
  let plain = stored;
  let decodeError: unknown;
  if (zstdEncoded(f, h)) {
    try {
      plain = zstdSync('decompress', stored, SMALL_FILE_MAX + 1);
    } catch (e) {
      decodeError = e;
    }
  }
  if (decodeError === undefined) v.plain(plain);
  v.finish(decodeError);
  return plain;
}

/** The repository opened for reading `name`: its root, wal/, the directory `name` lives in (if any), what it records. */
export interface OpenArchive {
  root: Dir;
  /** Undefined when `name`'s directory does not exist (nor, maybe, wal/): nothing there is archived. */
  dir: Dir | undefined;
  known: RecordedFacts[];
  close(): void;
}

const FIX_REPO = 'point --repo at the dbdrill repository that holds the archive';

/**
 * Opens the repository for reading `name`, never through a symlink inside it. A repository that
 * does not exist, or (with `strict`) that has neither repo.json nor wal/archive.json, is a fault:
 * restore_command pointed at the wrong place must not look like an empty archive. A repository
 * (repo.json) without wal/ has nothing archived: backups taken without WAL archiving.
 */
export function openArchive(repo: string, name: string, opts: { strict?: boolean } = {}): OpenArchive {
  const opened: Dir[] = [];
  const close = () => {
    for (const d of opened.reverse()) d.close();
  };
  /** A subdirectory, or undefined when it does not exist; a fault for a symlink or no access. */
  const sub = (parent: Dir, child: string): Dir | undefined => {
    try {
      const d = parent.child(child);
      opened.push(d);
      return d;
    } catch (e) {
      if (!(e instanceof UnsafePath)) throw e;
      if (e.code === 'ENOENT') return undefined;
      throw new ArchiveFault(name, e.message, e.code === 'EACCES' ? "let the server's user read the archive" : 'replace it with the real directory');
    }
  };
  try {
    let root: Dir;
    try {
      root = Dir.openRoot(repo);
    } catch (e) {
      if (!(e instanceof UnsafePath)) throw e;
      throw new ArchiveFault(name, e.code === 'ENOENT' ? `the repository ${repo} does not exist` : e.message, e.code === 'EACCES' ? "let the server's user enter the repository" : FIX_REPO);
    }
    opened.push(root);
    const wal = sub(root, 'wal');
    if (opts.strict && !exists(root.at('repo.json')) && !(wal && exists(wal.at(ARCHIVE_FACTS_FILE)))) {
      throw new ArchiveFault(name, `${repo} is not a dbdrill repository (it has neither repo.json nor wal/${ARCHIVE_FACTS_FILE})`, FIX_REPO);
    }
    const tl = timelineDirOf(name);
    const dir = wal && tl ? sub(wal, tl) : wal;
    return { root, dir, known: wal ? recordedFacts(root, wal) : [], close };
  } catch (e) {
    close();
    throw e;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first segment of the same timeline archived after `name` (in any form, or as .partial):
 * when `name` itself is missing, that is a gap and not the end of the archive.
 */
export function laterSegment(dir: Dir, name: string): string | undefined {
  let first: string | undefined;
  for (const entry of readdirSync(dir.at('.'))) {
    const n = storedWalName(entry);
    if (!n) continue;
    const kind = walFileKind(n);
    if (kind !== 'segment' && kind !== 'partial') continue;
    const seg = n.slice(0, 24);
    if (seg > name.slice(0, 24) && (first === undefined || seg < first)) first = seg;
  }
  return first;
}
