import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../repo/atomic.js';
import { checkFormat, damaged, readJsonFile } from '../util/untrusted-file.js';

/**
 * Where each copy holds what. One record per copy in the primary repository,
 * `<repo>/copies/<COPY>.json`, and the same document on the copy itself as `dbdrill-copy.json`
 * (its index), so that a copy alone — the primary repository gone — still says which files it
 * holds, under which names, with which sha256, and whether they are encrypted. Manifests are not
 * touched: a backup's manifest is written by the backup and verify, a copy's record by `copy`.
 */
export interface CopiedFile {
  /** Size and sha256 of the file as it is in the primary repository (the plaintext). */
  bytes: number;
  sha256: string;
  /** mtime of the source when it was copied: a file that changed since is sent again. */
  mtimeMs: number;
  /**
   * Its name on the copy, relative to the copy's root: `rel.age` when the copy encrypted it, `rel`
   * when it is plain or was already age ciphertext in the primary (`sealed`).
   */
  stored: string;
  /** Already encrypted in the primary repository, so stored as it is (never encrypted twice). */
  sealed?: true;
  storedBytes: number;
  storedSha256: string;
  copiedAt: string;
  /** When the copy's bytes were last read back (or hashed remotely) and matched. */
  verifiedAt?: string;
}

export interface CopyRecord {
  format: 'dbdrill-copy';
  formatVersion: 1;
  copy: string;
  dest: string;
  target: string;
  engine: string;
  systemId?: string;
  /** Set when the copy's files are encrypted with age to these recipients. */
  encryption?: { tool: 'age'; recipients: string[] };
  /** Repository-relative paths (backups/<id>/…, wal/…, binlog/…, repo.json). */
  files: Record<string, CopiedFile>;
  /** Files whose last copy or verification failed, with why. */
  failed: Record<string, string>;
  lastRun?: { at: string; sent: number; verified: number; failed: number; seconds: number };
}

export const INDEX_NAME = 'dbdrill-copy.json';

export function recordPath(repo: string, copy: string): string {
  return join(repo, 'copies', `${copy}.json`);
}

export function emptyRecord(copy: string, dest: string, target: string, engine: string): CopyRecord {
  return { format: 'dbdrill-copy', formatVersion: 1, copy, dest, target, engine, files: {}, failed: {} };
}

/** A record or index read from disk, its shape checked (a copy is untrusted input too). */
export function parseRecord(raw: unknown, file: string): CopyRecord {
  const o = checkFormat(raw, file, { what: 'a dbdrill copy record', versionKey: 'formatVersion', version: 1 });
  if (o.format !== 'dbdrill-copy') throw damaged(file, 'format is not "dbdrill-copy"');
  for (const k of ['copy', 'dest', 'target', 'engine'] as const) if (typeof o[k] !== 'string') throw damaged(file, `${k} must be text`);
  if (typeof o.files !== 'object' || o.files === null || Array.isArray(o.files)) throw damaged(file, 'files must be an object');
  for (const [rel, f] of Object.entries(o.files as Record<string, unknown>)) {
    if (!safeRel(rel)) throw damaged(file, `files holds "${rel}", which is not a path inside a repository`);
    const c = f as Partial<CopiedFile>;
    if (typeof c !== 'object' || c === null || typeof c.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(c.sha256) || typeof c.stored !== 'string' || !safeRel(c.stored) || typeof c.storedSha256 !== 'string' || typeof c.bytes !== 'number') {
      throw damaged(file, `files["${rel}"] lacks its size, sha256 or stored name`);
    }
    // Stored under its own name, or with the copy's .age: never as some other file.
    if (c.stored !== rel && c.stored !== `${rel}.age`) throw damaged(file, `files["${rel}"] is stored as "${c.stored}", which is not its name`);
  }
  if (o.failed !== undefined && (typeof o.failed !== 'object' || o.failed === null)) throw damaged(file, 'failed must be an object');
  return { ...(o as unknown as CopyRecord), failed: (o.failed as Record<string, string> | undefined) ?? {} };
}

/** A relative path with no way out of the directory it is read against. */
export function safeRel(rel: string): boolean {
  return rel !== '' && !rel.startsWith('/') && !rel.split('/').some((p) => p === '..' || p === '.' || p === '') && !/[\u0000-\u001f\\]/.test(rel);
}

export function readRecord(repo: string, copy: string): CopyRecord | undefined {
  const file = recordPath(repo, copy);
  const raw = readJsonFile(file);
  return raw === undefined ? undefined : parseRecord(raw, file);
}

export function writeRecord(repo: string, r: CopyRecord): void {
  const dir = join(repo, 'copies');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(recordPath(repo, r.copy), `${JSON.stringify(r, null, 2)}\n`);
}
