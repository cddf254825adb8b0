import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { walFileKind, ZSTD_SUFFIX } from '../pitr/wal-names.js';

/**
 * Where a WAL file lives in a repository: segments (and their .backup / .partial companions)
 * under wal/<timeline>/, timeline history files beside those directories. A compressed segment
 * is the same path with .zst appended.
 */
export function archivePath(repo: string, name: string): string {
  const kind = walFileKind(name);
  if (kind === 'history') return join(repo, 'wal', name);
  return join(repo, 'wal', name.slice(0, 8), name);
}

export type Compression = 'zstd';
export const COMPRESSIONS: readonly Compression[] = ['zstd'];

/** Only segments are compressed: history, .backup and .partial files stay plain and readable. */
export function compressible(name: string): boolean {
  return walFileKind(name) === 'segment';
}

/** The archived copy of `name` in whichever form it was stored, or undefined. */
export function findArchived(repo: string, name: string): { path: string; compressed: boolean } | undefined {
  const plain = archivePath(repo, name);
  if (existsSync(plain)) return { path: plain, compressed: false };
  if (compressible(name) && existsSync(plain + ZSTD_SUFFIX)) return { path: plain + ZSTD_SUFFIX, compressed: true };
  return undefined;
}

/** The archived size of these WAL files (what a replay fetched from the repository, compressed or not). */
export function archivedBytes(repo: string, names: string[]): number {
  return names.reduce((n, name) => {
    const f = findArchived(repo, name);
    try {
      return f ? n + statSync(f.path).size : n;
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
