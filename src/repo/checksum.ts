import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { FollowHash } from './follow-hash.js';

export interface FileSum {
  /** Path relative to the backup directory, with forward slashes. */
  path: string;
  bytes: number;
  sha256: string;
  /**
   * Stored encrypted (the repository's --encrypt-to): bytes and sha256 above are the ciphertext's,
   * checked without a key; these are the plain content's, checked when a restore decrypts it.
   */
  plain?: { bytes: number; sha256: string };
}

export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Every regular file below `dir` (sorted), except names for which `skip` says so. */
export async function listFiles(dir: string, skip: (rel: string) => boolean = () => false): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      const rel = relative(dir, full).split(sep).join('/');
      if (skip(rel)) continue;
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(rel);
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * The sha256 of every file in `rels`. Files hashed while they were written (see FollowHash) are
 * only finished, unless following them went wrong, when they are read afresh like the rest.
 */
export async function checksumFiles(dir: string, rels: string[], followed?: ReadonlyMap<string, FollowHash>): Promise<FileSum[]> {
  const sums: FileSum[] = [];
  for (const rel of rels) {
    const { sha256, bytes } = (await followed?.get(rel)?.finish()) ?? (await sha256File(join(dir, rel)));
    sums.push({ path: rel, bytes, sha256 });
  }
  return sums;
}

export interface Mismatch {
  path: string;
  problem: 'missing' | 'size' | 'checksum';
  expected: string;
  actual: string;
}

/** Re-reads every recorded file; names each one that is missing, truncated or altered. */
export async function verifyFiles(dir: string, files: FileSum[]): Promise<Mismatch[]> {
  const bad: Mismatch[] = [];
  for (const f of files) {
    const full = join(dir, f.path);
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch {
      bad.push({ path: f.path, problem: 'missing', expected: `${f.bytes} bytes`, actual: 'no file' });
      continue;
    }
    if (size !== f.bytes) {
      bad.push({ path: f.path, problem: 'size', expected: `${f.bytes} bytes`, actual: `${size} bytes` });
      continue;
    }
    const { sha256 } = await sha256File(full);
    if (sha256 !== f.sha256) bad.push({ path: f.path, problem: 'checksum', expected: f.sha256, actual: sha256 });
  }
  return bad;
}

/** "base/base.tar: checksum differs", "dump.sql: size (expected 10 bytes, found 9 bytes)". */
export function describeMismatch(b: Mismatch): string {
  return b.problem === 'checksum' ? `${b.path}: checksum differs` : `${b.path}: ${b.problem} (expected ${b.expected}, found ${b.actual})`;
}

/** A backup file read for a restore did not match its record. */
export class ChecksumMismatchError extends Error {
  constructor(readonly mismatch: Mismatch) {
    super(describeMismatch(mismatch));
    this.name = 'ChecksumMismatchError';
  }
}

const READ_CHUNK = 1 << 20;

/**
 * One recorded file read front to back once, hashed on the way, so the bytes a restore hands to a
 * tool are the bytes that were checked (no second pass). A size that differs fails before the
 * first byte is handed on; a content that differs is known only at the end, so the last chunk is
 * held back until the whole file has matched: a tool never receives the complete input of a file
 * that does not match, and the stream fails with ChecksumMismatchError instead.
 */
export class VerifyingRead {
  readonly #hash = createHash('sha256');
  /** Bytes hashed so far. */
  #pos = 0;
  /** null once the file matched; a Mismatch once it did not; undefined while unknown. */
  #verdict: Mismatch | null | undefined;
  #stream: Readable | undefined;
  #started = false;
  #closed: Promise<void>;
  #markClosed: () => void = () => {};

  constructor(
    readonly dir: string,
    readonly file: FileSum,
  ) {
    this.#closed = new Promise((r) => (this.#markClosed = r));
  }

  /** The file's bytes (one stream per read). */
  stream(): Readable {
    // Reads and hashes a few chunks ahead, so hashing overlaps the tool consuming the previous ones.
    this.#stream ??= Readable.from(this.#chunks(), { objectMode: false, highWaterMark: 4 * READ_CHUNK });
    return this.#stream;
  }

  /**
   * After the consumer is done (or failed): hashes what it left unread (a tool may stop at its
   * format's end marker), then throws ChecksumMismatchError if the file differs from its record.
   * Returns without a verdict when `signal` is aborted first.
   */
  async finish(signal?: AbortSignal): Promise<void> {
    if (this.#verdict === undefined) {
      this.#stream?.destroy();
      if (this.#started) await this.#closed;
      if (this.#verdict === undefined) await this.#hashRest(signal);
    }
    if (this.#verdict) throw new ChecksumMismatchError(this.#verdict);
  }

  async *#chunks(): AsyncGenerator<Buffer> {
    this.#started = true;
    try {
      const fh = await this.#open();
      try {
        const size = (await fh.stat()).size;
        if (size !== this.file.bytes) this.#fail('size', `${this.file.bytes} bytes`, `${size} bytes`);
        let held: Buffer | undefined;
        for (;;) {
          const chunk = await this.#readNext(fh);
          if (!chunk) break;
          if (held) yield held;
          held = chunk;
        }
        this.#judge();
        if (held) yield held;
      } finally {
        await fh.close();
      }
    } finally {
      this.#markClosed();
    }
  }

  async #hashRest(signal?: AbortSignal): Promise<void> {
    const fh = await this.#open().catch(() => undefined);
    if (!fh) return;
    try {
      for (;;) {
        if (signal?.aborted) return;
        if (!(await this.#readNext(fh))) break;
      }
      this.#judge(false);
    } finally {
      await fh.close();
    }
  }

  async #open(): Promise<FileHandle> {
    try {
      return await open(join(this.dir, this.file.path), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.#fail('missing', `${this.file.bytes} bytes`, 'no file');
      throw e;
    }
  }

  async #readNext(fh: FileHandle): Promise<Buffer | undefined> {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, this.#pos);
    if (bytesRead === 0) return undefined;
    const chunk = buf.subarray(0, bytesRead);
    this.#hash.update(chunk);
    this.#pos += bytesRead;
    return chunk;
  }

  /** Settles the verdict from what was hashed; throws the mismatch unless told not to. */
  #judge(raise = true): void {
    if (this.#pos !== this.file.bytes) this.#verdict = { path: this.file.path, problem: 'size', expected: `${this.file.bytes} bytes`, actual: `${this.#pos} bytes` };
    else {
      const sha256 = this.#hash.digest('hex');
      this.#verdict = sha256 === this.file.sha256 ? null : { path: this.file.path, problem: 'checksum', expected: this.file.sha256, actual: sha256 };
    }
    if (this.#verdict && raise) throw new ChecksumMismatchError(this.#verdict);
  }

  #fail(problem: Mismatch['problem'], expected: string, actual: string): never {
    this.#verdict = { path: this.file.path, problem, expected, actual };
    throw new ChecksumMismatchError(this.#verdict);
  }
}
