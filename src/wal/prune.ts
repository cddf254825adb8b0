import { lstatSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { readInventory } from '../pitr/inventory.js';
import { segmentName } from '../pitr/wal-names.js';
import { fsyncDir } from '../repo/atomic.js';
import { findArchived, walRoot } from './layout.js';

/**
 * The WAL below a new window start. `position` is a segment's log and number (its name without
 * the timeline, 16 hex digits): as pg_archivecleanup does, segments of every timeline below it go,
 * because no restore from a kept backup reads them. History files always stay (they are tiny and
 * a restore following a timeline needs them all).
 */
export interface ArchiveFile {
  name: string;
  bytes: number;
  /** When it reached the archive (ms). */
  archivedAt: number;
}

export function walPosition(segment: string): string {
  return segment.slice(8);
}

/** Archived segments below `position` (all of them without one), oldest first. */
export function walBelow(repo: string, position?: string): ArchiveFile[] {
  const inv = readInventory(walRoot(repo));
  const out: ArchiveFile[] = [];
  for (const [timeline, segs] of inv.timelines) {
    for (const segNo of segs) {
      const name = segmentName({ timeline, segNo });
      if (position !== undefined && walPosition(name) >= position) break;
      const found = findArchived(repo, name);
      if (!found) continue;
      try {
        const st = lstatSync(found.path);
        out.push({ name, bytes: st.size, archivedAt: st.mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
  }
  return out.sort((a, b) => walPosition(a.name).localeCompare(walPosition(b.name)) || a.name.localeCompare(b.name));
}

/**
 * Removes these segments in every form they are stored in, oldest first, so that a crash leaves
 * the archive shorter at its old end and never with a hole in the middle.
 */
export function removeWal(repo: string, names: string[]): number {
  let removed = 0;
  const dirs = new Set<string>();
  for (const name of names) {
    for (let f = findArchived(repo, name); f; f = findArchived(repo, name)) {
      rmSync(f.path, { force: true });
      dirs.add(dirname(f.path));
      removed++;
    }
  }
  for (const d of dirs) fsyncDir(d);
  return removed;
}
