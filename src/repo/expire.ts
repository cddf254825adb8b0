import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from './atomic.js';
import type { Manifest } from './manifest.js';
import type { Repository } from './repository.js';

/**
 * Removing a backup so that a crash at any moment leaves the catalog truthful:
 *   1. the manifest says `expiring` (atomic write): no planner starts from it, the catalog shows it
 *      as going, and the next prune finishes it;
 *   2. its data files go (the manifest stays, so the entry is never half a backup that looks whole);
 *   3. the directory leaves the catalog's namespace in one rename (.expired-<id>), then goes.
 * A crash after 3 leaves only a dot-directory, which the catalog never reads and sweepExpired removes.
 */
const EXPIRED_PREFIX = '.expired-';

export function markExpiring(repo: Repository, m: Manifest): Manifest {
  const { owner: _owner, ...rest } = m;
  const marked: Manifest = { ...rest, status: 'expiring' };
  repo.writeManifest(marked);
  return marked;
}

/** Steps 2 and 3 for a backup already marked expiring. */
export function removeExpiring(repo: Repository, id: string): void {
  repo.quarantine(id);
  const aside = join(repo.backupsDir, `${EXPIRED_PREFIX}${id}`);
  try {
    renameSync(repo.backupDir(id), aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  fsyncDir(repo.backupsDir);
  rmSync(aside, { recursive: true, force: true });
}

/** Leftovers of a removal interrupted after its rename; returns how many were removed. */
export function sweepExpired(repo: Repository): number {
  let names: string[];
  try {
    names = readdirSync(repo.backupsDir).filter((n) => n.startsWith(EXPIRED_PREFIX));
  } catch {
    return 0;
  }
  for (const n of names) rmSync(join(repo.backupsDir, n), { recursive: true, force: true });
  return names.length;
}
