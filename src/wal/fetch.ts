import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { DbdrillError } from '../errors.js';
import { walFileKind } from '../pitr/wal-names.js';
import { fsyncDir } from '../repo/atomic.js';
import type { RecordedFacts } from './facts.js';
import { ArchiveFault, closeStored, laterSegment, openArchive, openStored, readStoredInto, type StoredFile } from './stored.js';
import { openStreamPartial } from './stream-dir.js';

/**
 * restore_command. PostgreSQL reads exit status 1 (any status up to 125) as "no such file": the
 * end of the archive, and recovery ends there and promotes. So wal-fetch exits 1 only when the
 * file is not archived and nothing after it on its timeline is; every other failure (a corrupt,
 * truncated or foreign copy, a gap, a repository that is not there, a name that is not a WAL
 * file name) exits FETCH_FATAL_EXIT, which PostgreSQL treats like a signal and aborts recovery
 * (wait_result_is_any_signal: exit status above 125).
 */
export const FETCH_FATAL_EXIT = 255;

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/**
 * Copies the archived `name` to `target`, checked while it streams: written to a temp name
 * beside the target, fsynced, renamed, the directory fsynced; nothing is left at the target or
 * beside it when the copy fails. False when `name` is not archived (and is not a gap).
 */
export async function walFetch(repo: string, name: string, target: string): Promise<boolean> {
  const kind = fetchableKind(name);
  const archive = openArchive(repo, name, { strict: true });
  try {
    // A segment not yet complete in wal/ may be the one `dbdrill stream` is receiving: its
    // .partial (full size, zero-padded) is handed over under the segment's name, so recovery
    // replays up to the last streamed record and then finds the end of the archive.
    const stored = (archive.dir ? openStored(archive.dir, name) : undefined) ?? (kind === 'segment' && !(archive.dir && laterSegment(archive.dir, name)) ? openStreamPartial(archive.root, name) : undefined);
    if (!stored) {
      if (archive.dir && (kind === 'segment' || kind === 'partial')) {
        const later = laterSegment(archive.dir, name);
        if (later) {
          throw new ArchiveFault(
            name,
            `it is missing from the archive while the later segment ${later} of timeline ${parseInt(name.slice(0, 8), 16)} is archived: a gap in the WAL`,
            `put the missing segment back into ${archive.dir.path}, or restore to a point before it`,
          );
        }
      }
      return false;
    }
    return await handOver(stored, archive.known, target);
  } finally {
    archive.close();
  }
}

/** What kind of WAL file restore_command asks for; any other name stops recovery (ArchiveFault). */
export function fetchableKind(name: string): NonNullable<ReturnType<typeof walFileKind>> {
  const kind = walFileKind(name);
  if (kind) return kind;
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  throw new ArchiveFault(shown, 'it is not a WAL segment, history, backup or partial file name, so nothing was read', 'restore_command must pass %f');
}

/** Hands an opened archived (or streamed) file over at `target`, checked while copied, and closes it. */
export async function handOver(stored: StoredFile, known: RecordedFacts[], target: string): Promise<true> {
  try {
    await copyChecked(target, (fd) => readStoredInto(stored, known, fd));
  } finally {
    closeStored(stored);
  }
  return true;
}

/** Runs `read` into a new temp file next to `target` and renames it there only when the read completed. */
export async function copyChecked(target: string, read: (fd: number) => Promise<unknown>): Promise<void> {
  const tmp = `${target}.${randomBytes(4).toString('hex')}.dbdrill-fetch`;
  let fd: number;
  try {
    fd = openSync(tmp, 'wx+', 0o600);
  } catch (e) {
    throw new DbdrillError('failed', `Could not create ${tmp} (${errno(e)}); the destination directory must exist and be writable.`);
  }
  try {
    await read(fd);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    if (e instanceof DbdrillError) throw e;
    throw new DbdrillError('failed', `Could not write ${target} (${errno(e)}); free space there.`);
  }
  closeSync(fd);
  try {
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new DbdrillError('failed', `Could not rename ${tmp} to ${target} (${errno(e)}).`);
  }
  fsyncDir(dirname(target));
}
