import { chmodSync, chownSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { walFileKind } from '../pitr/wal-names.js';

/**
 * Where a WAL file lives in a repository: segments (and their .backup / .partial companions)
 * under wal/<timeline>/, timeline history files beside those directories.
 */
export function archivePath(repo: string, name: string): string {
  const kind = walFileKind(name);
  if (kind === 'history') return join(repo, 'wal', name);
  return join(repo, 'wal', name.slice(0, 8), name);
}

/** The archived size of these WAL files (what a replay fetched from the repository). */
export function archivedBytes(repo: string, names: string[]): number {
  return names.reduce((n, name) => {
    try {
      return n + statSync(archivePath(repo, name)).size;
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
