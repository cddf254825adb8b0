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

export function walRoot(repo: string): string {
  return join(repo, 'wal');
}
