import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Dir } from './safe-dir.js';

/**
 * Temp files a killed wal-push left behind (`.<stored name>.<8 hex>.tmp`). A push writes its temp
 * file for well under a minute even for 1 GB segments, so one untouched for 15 minutes belongs to
 * no running push and is safe to remove.
 */
export const ORPHAN_AGE_MS = 15 * 60 * 1000;
export const TEMP_RE = /^\..+\.[0-9a-f]{8}\.tmp$/;

/** Removes this directory's orphan temp files; best effort (another push may remove one first). */
export function removeOrphanTemps(dir: Dir, now = Date.now()): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir.at('.'));
  } catch {
    return 0;
  }
  for (const name of entries) {
    if (!TEMP_RE.test(name)) continue;
    try {
      const st = lstatSync(dir.at(name));
      if (!st.isFile() || now - st.mtimeMs < ORPHAN_AGE_MS) continue;
      rmSync(dir.at(name), { force: true });
      removed++;
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}

export interface OrphanTemps {
  count: number;
  bytes: number;
  /** mtime (ms) of the oldest one. */
  oldest?: number;
}

/**
 * Temp files in the archive's wal/ and timeline directories older than `minAgeMs` (by default
 * the age at which a push removes them: younger ones may belong to a push still running), for
 * health to report.
 */
export function orphanTempFiles(repo: string, opts: { minAgeMs?: number; now?: number } = {}): OrphanTemps {
  const minAge = opts.minAgeMs ?? ORPHAN_AGE_MS;
  const now = opts.now ?? Date.now();
  const out: OrphanTemps = { count: 0, bytes: 0 };
  const wal = join(repo, 'wal');
  const dirs = [wal];
  try {
    for (const d of readdirSync(wal, { withFileTypes: true })) if (d.isDirectory() && /^[0-9A-F]{8}$/.test(d.name)) dirs.push(join(wal, d.name));
  } catch {
    return out;
  }
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!TEMP_RE.test(name)) continue;
      try {
        const st = lstatSync(join(dir, name));
        if (!st.isFile() || now - st.mtimeMs < minAge) continue;
        out.count++;
        out.bytes += st.size;
        if (out.oldest === undefined || st.mtimeMs < out.oldest) out.oldest = st.mtimeMs;
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}
