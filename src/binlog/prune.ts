import { lstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from '../repo/atomic.js';
import { binlogRoot, listArchived, readIndex, writeIndex } from './archive.js';
import { compareBinlogNames, parseBinlogFileName } from './names.js';

/** An archived binlog a prune may remove. */
export interface ArchivedFile {
  name: string;
  bytes: number;
  archivedAt: number;
}

/** Archived binlogs of the same base name before `position` (the file the oldest kept backup starts in; all without one), oldest first. */
export function binlogsBelow(repo: string, position?: string): ArchivedFile[] {
  const base = position === undefined ? undefined : parseBinlogFileName(position)?.base;
  const out: ArchivedFile[] = [];
  for (const name of listArchived(repo)) {
    if (position !== undefined && (parseBinlogFileName(name)?.base !== base || compareBinlogNames(name, position) >= 0)) continue;
    try {
      const st = lstatSync(join(binlogRoot(repo), name));
      if (st.isFile()) out.push({ name, bytes: st.size, archivedAt: st.mtimeMs });
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

/**
 * Removes these binlogs: the index forgets them first (a file still on disk but not in the index
 * is read again and re-indexed, while an indexed file that is gone would read as lost), then the
 * files go, oldest first, so the archive never has a hole in the middle.
 */
export function removeBinlogs(repo: string, names: string[]): number {
  const gone = new Set(names);
  const idx = readIndex(repo);
  if (idx.files.some((f) => gone.has(f.file))) writeIndex(repo, idx.files.filter((f) => !gone.has(f.file)));
  const sorted = [...names].sort(compareBinlogNames);
  for (const n of sorted) rmSync(join(binlogRoot(repo), n), { force: true });
  if (sorted.length) fsyncDir(binlogRoot(repo));
  return sorted.length;
}
