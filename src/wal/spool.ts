import { closeSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { walFileKind } from '../pitr/wal-names.js';
import { CREATE_FLAGS, Dir } from './safe-dir.js';

/**
 * The spool of a batching wal-push: one empty-ish record `<spool>/<segment>` per segment that a
 * batch pushed *before* PostgreSQL asked for it, written only once the copy is durable in the
 * repository. archive_command's fast path is a shell test of that record (no Node start), so a
 * record must never exist for a segment that is not safely archived:
 *
 *   - it is written after wal-push returned (file and directory fsynced), by rename; a crash
 *     before that leaves no record and the next call redoes the push (which finds the same
 *     content archived: success). The record itself is not fsynced: the segment was durable
 *     before the record existed at all, so a record that survives a power loss names a durable
 *     segment, and one the power loss takes only costs a second push of the same content;
 *   - the fast path removes the record it consumes; records whose `.ready` file is gone (the
 *     server archived it some other way, or was rebuilt) are removed by the next batch;
 *   - the spool is per server (`wal/spool/<system id>`), so a server of another system id never
 *     reads another's records.
 */
export const SPOOL_DIR = 'spool';

/** `<repo>/wal/spool/<system id>`: the path archive_command's fast path tests. */
export function spoolPath(repo: string, systemId: string): string {
  return join(repo, 'wal', SPOOL_DIR, systemId);
}

/**
 * Segments PostgreSQL has marked ready to archive in the pg_wal directory `pgWal`, oldest first.
 * Only segments: history and backup files are rare and small, the normal path takes them.
 */
export function readySegments(pgWal: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(pgWal, 'archive_status'));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.ready'))
    .map((n) => n.slice(0, -'.ready'.length))
    .filter((n) => walFileKind(n) === 'segment')
    .sort();
}

/** Records in the spool now (segment names). */
export function spooled(spool: Dir): Set<string> {
  try {
    return new Set(readdirSync(spool.at('.')).filter((n) => walFileKind(n) === 'segment'));
  } catch {
    return new Set();
  }
}

/**
 * Writes the record for `name` (its checksum, for whoever looks), whole or not at all (rename).
 * No fsync: see above; it would double the disk flushes of every segment pushed ahead.
 */
export function writeRecord(spool: Dir, name: string, sha256: string): void {
  replaceFile(spool, name, `${sha256}\n`);
}

/** Writes `name` whole or not at all (a temp file renamed over it): a reader never sees it half written. */
export function replaceFile(spool: Dir, name: string, text: string): void {
  const tmp = `.${name}.${process.pid}.tmp`;
  const fd = openSync(spool.at(tmp), CREATE_FLAGS, 0o600);
  try {
    const bytes = Buffer.from(text);
    writeSync(fd, bytes, 0, bytes.length, 0);
  } finally {
    closeSync(fd);
  }
  renameSync(spool.at(tmp), spool.at(name));
}

/** Removes records no `.ready` file asks for any more, and temp files of killed batches. */
export function removeStaleRecords(spool: Dir, ready: ReadonlySet<string>): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(spool.at('.'));
  } catch {
    return 0;
  }
  for (const n of names) {
    const stale = walFileKind(n) === 'segment' ? !ready.has(n) : /^\..+\.\d+\.tmp$/.test(n) && n !== '.ahead.lock';
    if (!stale) continue;
    rmSync(spool.at(n), { force: true });
    removed++;
  }
  return removed;
}
