import { chmodSync, chownSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DBW_SUFFIX, walFileKind, ZSTD_SUFFIX } from '../pitr/wal-names.js';
import { DBW_HEADER_BYTES } from './format.js';

/**
 * Where a WAL file lives in a repository: segments (and their .backup / .partial companions)
 * under wal/<timeline>/, timeline history files in wal/ itself. Each is stored under one name,
 * `<name>.dbw` (src/wal/format.ts), whatever its compression; earlier versions stored `<name>`
 * plain or `<segment>.zst`, and those are still read.
 */
export type StoredForm = 'dbw' | 'plain' | 'zst';

/** The directory under wal/ holding `name`, or undefined for wal/ itself (history files). */
export function timelineDirOf(name: string): string | undefined {
  return walFileKind(name) === 'history' ? undefined : name.slice(0, 8);
}

/** The file names `name` may be stored under, the current form first. */
export function storedForms(name: string): { form: StoredForm; file: string }[] {
  const forms: { form: StoredForm; file: string }[] = [{ form: 'dbw', file: name + DBW_SUFFIX }, { form: 'plain', file: name }];
  if (walFileKind(name) === 'segment') forms.push({ form: 'zst', file: name + ZSTD_SUFFIX });
  return forms;
}

/** Where wal-push stores `name` now. */
export function archivePath(repo: string, name: string): string {
  const tl = timelineDirOf(name);
  return tl ? join(repo, 'wal', tl, name + DBW_SUFFIX) : join(repo, 'wal', name + DBW_SUFFIX);
}

export type Compression = 'zstd';
export const COMPRESSIONS: readonly Compression[] = ['zstd'];

/** Only segments are compressed: history, .backup and .partial files are tiny or rare. */
export function compressible(name: string): boolean {
  return walFileKind(name) === 'segment';
}

/**
 * The stored copy of `name` by path, in whichever form, or undefined; for sizes and listings.
 * Reading its content goes through stored.ts, which checks it.
 */
export function findArchived(repo: string, name: string): { path: string; form: StoredForm } | undefined {
  const tl = timelineDirOf(name);
  const dir = tl ? join(repo, 'wal', tl) : join(repo, 'wal');
  for (const { form, file } of storedForms(name)) {
    try {
      if (lstatSync(join(dir, file)).isFile()) return { path: join(dir, file), form };
    } catch {
      // not in this form
    }
  }
  return undefined;
}

/**
 * The archived size of these WAL files: what a replay fetched from the repository, compressed or
 * not, without the .dbw headers (a plain 16 MB segment counts 16 MB).
 */
export function archivedBytes(repo: string, names: string[]): number {
  return names.reduce((n, name) => {
    const f = findArchived(repo, name);
    try {
      return f ? n + lstatSync(f.path).size - (f.form === 'dbw' ? DBW_HEADER_BYTES : 0) : n;
    } catch {
      return n;
    }
  }, 0);
}

export function walRoot(repo: string): string {
  return join(repo, 'wal');
}

/**
 * Creates wal/ for a server that archives as another user (postgres, while dbdrill runs as
 * root): wal/ belongs to that user and the repository root becomes enterable, not listable.
 */
export function prepareWalDir(repo: string, owner?: { uid: number; gid: number }): string {
  const wal = walRoot(repo);
  mkdirSync(wal, { recursive: true, mode: 0o700 });
  if (owner) {
    chownSync(wal, owner.uid, owner.gid);
    chmodSync(repo, 0o711);
  }
  return wal;
}
