import { basename, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { DbdrillError, isDbdrillError } from '../errors.js';
import { ChecksumMismatchError, describeMismatch, VerifyingRead, type FileSum, type Mismatch } from './checksum.js';
import type { Manifest } from './manifest.js';
import { Repository } from './repository.js';
import { noIdentity, openSealed } from './sealed-read.js';
import { repositoryIdentity } from '../crypto/identity.js';

/** A restore found a backup file that differs from its record (the backup is marked corrupt by then). */
export class CorruptBackupError extends DbdrillError {
  constructor(
    message: string,
    readonly backup: string,
    readonly mismatch: Mismatch,
  ) {
    super('failed', message, { backup, file: mismatch.path, problem: mismatch.problem });
    this.name = 'CorruptBackupError';
  }
}

/**
 * The files of one backup as a restore reads them: each checked against the sha256 its manifest
 * recorded, and the backup marked corrupt (with why) the moment one differs, so no planner picks
 * it again. A restore never starts a server on bytes that were not proven.
 */
export class BackupFiles {
  private constructor(
    readonly repo: Repository,
    readonly dir: string,
    readonly m: Manifest,
  ) {}

  /** The backup stored in `dir` (a Repository's backupDir), as its manifest records it now. */
  static at(dir: string): BackupFiles {
    const repo = new Repository(dirname(dirname(dir)));
    return new BackupFiles(repo, dir, repo.readManifest(basename(dir)));
  }

  /**
   * Hands the file to `use` as a stream that is verified while it is read (see VerifyingRead).
   * `stopped` finishes the sentence "the restore stopped …" when it does not match.
   */
  async read<T>(rel: string, signal: AbortSignal, stopped: string, use: (stream: Readable) => Promise<T>): Promise<T> {
    const record = this.#record(rel);
    const read = new VerifyingRead(this.dir, record);
    // Encrypted: the checked ciphertext goes through `age -d`, and the plain bytes are checked too.
    const opened = record.plain ? await openSealed(read.stream(), record, this.m.id, signal) : undefined;
    let out: T;
    try {
      out = await use(opened ? opened.stream : read.stream());
    } catch (e) {
      if (e instanceof ChecksumMismatchError) throw this.#corrupt(e.mismatch, stopped);
      // A tool that choked on a damaged file is better explained by the file than by the tool.
      if (!(isDbdrillError(e) && e.code === 'aborted')) {
        await this.#settle(read, signal, stopped);
        await opened?.finish();
      }
      throw e;
    }
    await this.#settle(read, signal, stopped);
    await opened?.finish();
    return out;
  }

  /** Whether restoring this backup needs the age identity (its files are encrypted). */
  get encrypted(): boolean {
    return this.m.files.some((f) => f.plain !== undefined);
  }

  /** Before a restore touches anything: an encrypted backup cannot be read without the identity. */
  needKey(): this {
    if (this.encrypted && !repositoryIdentity()) throw noIdentity(this.m.id);
    return this;
  }

  /**
   * For tools that read the backup's files themselves (mariadb-backup --copy-back, pg_restore on
   * a directory or with --jobs, which need to seek): one streamed pass over each recorded file
   * that `wanted` selects, right before the tool runs, stopping at the first that differs.
   */
  async check(wanted: (rel: string) => boolean, signal: AbortSignal, stopped: string): Promise<number> {
    let n = 0;
    for (const f of this.m.files.filter((x) => wanted(x.path))) {
      // A tool that reads files itself would read ciphertext: encrypted backups are only streamed.
      if (f.plain) throw new DbdrillError('failed', `Backup ${this.m.id} is encrypted, and ${f.path} can only be read as a stream through age, not by the restoring tool itself; restore it without the options that need the file on disk.`);
      if (signal.aborted) throw new DbdrillError('aborted', `The restore was cancelled while checking the files of backup ${this.m.id}.`);
      await this.#settle(new VerifyingRead(this.dir, f), signal, stopped);
      n++;
    }
    return n;
  }

  #record(rel: string): FileSum {
    const f = this.m.files.find((x) => x.path === rel);
    if (!f) throw new DbdrillError('failed', `Backup ${this.m.id} records no checksum for ${rel}, so a restore cannot prove it; restore another backup (dbdrill catalog ${this.m.target}).`);
    return f;
  }

  async #settle(read: VerifyingRead, signal: AbortSignal, stopped: string): Promise<void> {
    try {
      await read.finish(signal);
    } catch (e) {
      if (e instanceof ChecksumMismatchError) throw this.#corrupt(e.mismatch, stopped);
      throw e;
    }
  }

  #corrupt(b: Mismatch, stopped: string): CorruptBackupError {
    let marked = 'the backup is now marked corrupt';
    try {
      markCorrupt(this.repo, this.m.id, `${describeMismatch(b)} (found by a restore)`);
    } catch (e) {
      marked = `the backup could not be marked corrupt (${(e as Error).message})`;
    }
    return new CorruptBackupError(
      `Backup ${this.m.id} is corrupt: ${mismatchWords(b)}; the restore stopped ${stopped}, and ${marked} (restore another one: dbdrill catalog ${this.m.target}).`,
      this.m.id,
      b,
    );
  }
}

function mismatchWords(b: Mismatch): string {
  switch (b.problem) {
    case 'checksum':
      return `${b.path} does not match the sha256 recorded at backup time`;
    case 'size':
      return `${b.path} holds ${b.actual}, not the ${b.expected} recorded at backup time`;
    case 'missing':
      return `${b.path} is missing`;
  }
}

/**
 * Marks a backup corrupt, keeping the verification that found it (an atomic manifest rewrite).
 * Verify sets it back to complete once every file matches again.
 */
export function markCorrupt(repo: Repository, id: string, detail: string, at = new Date().toISOString()): Manifest {
  const m = repo.readManifest(id);
  m.status = 'corrupt';
  m.verification = [...(m.verification ?? []), { at, method: 'sha256', ok: false, detail }];
  repo.writeManifest(m);
  return m;
}
