import { statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Free and total bytes of a file system, as statfs(2) reports them to this user. */
export interface DiskSpace {
  path: string;
  freeBytes: number;
  totalBytes: number;
}

export type DiskView = DiskSpace | { unknown: string };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * The disk holding a server's directory (pg_wal, the binlog directory), seen from this machine:
 * only when the server is local (a loopback address or a socket directory) and the directory here
 * really is that server's — the file it writes now must exist in it. statfs() follows a directory
 * that links to another disk. Otherwise one phrase says why it cannot be told.
 */
export function localDiskOf(host: string, dir: string, writing: string | null): DiskView {
  if (!LOOPBACK.has(host) && !host.startsWith('/')) {
    return { unknown: `the server at ${host} is not on this machine` };
  }
  try {
    if (writing !== null) statSync(join(dir, writing));
    const fs = statfsSync(dir);
    return { path: dir, freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    const why = code === 'ENOENT' ? 'belongs to another server or another machine' : code === 'EACCES' ? 'is not readable by this user' : `cannot be read (${code})`;
    return { unknown: `${dir} ${why}` };
  }
}

/** Seconds until the disk is full at this rate (null: unknown, or nothing grows). */
export function fullInSeconds(disk: DiskView | null | undefined, bytesPerSecond: number | null): number | null {
  if (!disk || 'unknown' in disk || bytesPerSecond === null || bytesPerSecond <= 0) return null;
  return disk.freeBytes / bytesPerSecond;
}
