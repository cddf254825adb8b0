import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { segmentName } from '../pitr/wal-names.js';
import { zstdDecompressInto } from '../runner/zstd.js';
import { findArchived } from './layout.js';

/**
 * Runs `fn` with a directory where the archived segments `segNos` of `timeline` (those that are
 * archived) are plain files, for tools such as pg_waldump that cannot read .zst: the archive's
 * own directory when they are stored plain, else a private temp copy removed afterwards.
 */
export async function withPlainSegments<T>(repo: string, timeline: number, segNos: number[], fn: (dir: string) => Promise<T>): Promise<T> {
  const found = segNos.flatMap((segNo) => {
    const name = segmentName({ timeline, segNo });
    const at = findArchived(repo, name);
    return at ? [{ name, ...at }] : [];
  });
  if (found.length === 0 || found.every((f) => !f.compressed)) return fn(found[0] ? dirname(found[0].path) : repo);
  const dir = mkdtempSync(join(tmpdir(), 'dbdrill-wal-'));
  try {
    for (const f of found) {
      const dest = join(dir, f.name);
      if (!f.compressed) {
        copyFileSync(f.path, dest);
        continue;
      }
      const fd = openSync(dest, 'w', 0o600);
      try {
        zstdDecompressInto(f.path, fd);
      } finally {
        closeSync(fd);
      }
    }
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
