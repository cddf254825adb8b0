/**
 * Reads every file of a repository's archive the way a restore would, and says which ones fail:
 * each archived WAL segment and history file through the same checked read wal-fetch uses (the
 * .dbw header's sizes and sha256, legacy copies' page headers and zstd frame checksums), each
 * archived binlog through the check a replay makes (size and sha256 against the index, every
 * event's CRC, closed by a Rotate or Stop event). Nothing is written into the repository.
 */
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBinlogInventory, type ArchivedBinlog } from '../binlog/archive.js';
import { checkArchivedBinlog } from '../binlog/integrity.js';
import { checkSealedStored as checkSealedBinlog, isSealed } from '../binlog/sealed.js';
import { repositoryIdentity } from '../crypto/identity.js';
import { DbdrillError } from '../errors.js';
import { segmentName, timelineHex } from '../pitr/wal-names.js';
import type { WalInventory } from '../pitr/inventory.js';
import { ArchiveFault, checkSealedStored, closeStored, openArchive, openStored, readDbwHeader, readStoredInto, readStoredSync } from '../wal/stored.js';
import type { DamagedSegment } from './archive-lines.js';

export interface CheckProgress {
  (done: number, total: number, bytes: number): void;
}

/** The reason an ArchiveFault gives, without the fix (the report says what breaks instead). */
function faultWords(e: unknown): string {
  if (e instanceof ArchiveFault) return e.what;
  if (e instanceof DbdrillError) return e.message.replace(/\.$/, '');
  return (e as Error).message;
}

/** One archived WAL file read through the checked path into a private temp file; the fault's words, or undefined when intact. */
async function checkWalFile(repo: string, name: string, scratch: string): Promise<{ problem?: string; bytes: number }> {
  let archive: ReturnType<typeof openArchive>;
  try {
    archive = openArchive(repo, name);
  } catch (e) {
    return { problem: faultWords(e), bytes: 0 };
  }
  try {
    const f = archive.dir ? openStored(archive.dir, name) : undefined;
    if (!f) return { problem: 'it is no longer in the archive', bytes: 0 };
    try {
      // A copy stored as it is (plain) is checked as it streams: its bytes need go nowhere. A
      // compressed one is decoded into a temp file, whose size and head the check reads back.
      const encoding = f.form === 'dbw' ? readDbwHeader(f).encoding : undefined;
      // Encrypted and no identity given: the ciphertext against its header's sha256 only.
      if (encoding?.includes('age') && !process.env.DBDRILL_AGE_IDENTITY) return checkSealedStored(f);
      const identity = f.form === 'plain' || encoding?.length === 0;
      const out = join(scratch, name);
      const fd = identity ? openSync('/dev/null', 'w') : openSync(out, 'wx+', 0o600);
      try {
        const r = await readStoredInto(f, archive.known, fd);
        return { bytes: r.bytes };
      } finally {
        closeSync(fd);
        rmSync(out, { force: true });
      }
    } finally {
      closeStored(f);
    }
  } catch (e) {
    if (e instanceof ArchiveFault || (e instanceof DbdrillError && e.code === 'failed')) return { problem: faultWords(e), bytes: 0 };
    throw e;
  } finally {
    archive.close();
  }
}

export interface WalCheck {
  damaged: DamagedSegment[];
  /** History files that fail their check: timeline → reason. */
  damagedHistories: Map<number, string>;
  segments: number;
  bytes: number;
}

/** Every archived segment of every timeline, and every history file. */
export async function checkWalArchive(repo: string, inv: WalInventory, segmentBytes: number, progress?: CheckProgress, signal?: AbortSignal): Promise<WalCheck> {
  const all = [...inv.timelines].flatMap(([tl, segs]) => segs.map((segNo) => ({ timeline: tl, segNo })));
  const damaged: DamagedSegment[] = [];
  const damagedHistories = new Map<number, string>();
  const scratch = mkdtempSync(join(tmpdir(), 'dbdrill-verify-wal-'));
  let bytes = 0;
  try {
    for (const [i, s] of all.entries()) {
      if (signal?.aborted) throw new DbdrillError('aborted', 'Verify was cancelled.');
      const r = await checkWalFile(repo, segmentName(s, segmentBytes), scratch);
      bytes += r.bytes;
      if (r.problem !== undefined) damaged.push({ ...s, reason: r.problem });
      progress?.(i + 1, all.length, bytes);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const tl of inv.histories) {
    const name = `${timelineHex(tl)}.history`;
    try {
      const archive = openArchive(repo, name);
      try {
        const f = archive.dir ? openStored(archive.dir, name) : undefined;
        if (f) {
          try {
            readStoredSync(f, archive.known);
          } finally {
            closeStored(f);
          }
        }
      } finally {
        archive.close();
      }
    } catch (e) {
      damagedHistories.set(tl, faultWords(e));
    }
  }
  return { damaged, damagedHistories, segments: all.length, bytes };
}

export interface BinlogCheckResult {
  /** Archived files, each with a problem when its check failed. */
  files: ArchivedBinlog[];
  /** Files the index records as archived that are no longer there. */
  gone: ArchivedBinlog[];
  bytes: number;
}

/** Every archived binlog read to its end. */
export async function checkBinlogArchive(repo: string, progress?: CheckProgress, signal?: AbortSignal): Promise<BinlogCheckResult> {
  const inv = await readBinlogInventory(repo, signal);
  const files: ArchivedBinlog[] = [];
  let bytes = 0;
  for (const [i, f] of inv.files.entries()) {
    if (f.problem !== undefined) files.push(f);
    else if (isSealed(f) && !repositoryIdentity()) {
      // Encrypted, no identity: the ciphertext against the index only (the events need the key).
      const problem = await checkSealedBinlog(repo, f, signal);
      files.push(problem !== undefined ? { ...f, problem } : f);
      bytes += f.size;
    } else {
      const c = await checkArchivedBinlog(repo, f, undefined, { signal });
      files.push(c.problem !== undefined ? { ...f, problem: c.problem } : f);
      bytes += c.scan.bytes;
    }
    progress?.(i + 1, inv.files.length, bytes);
  }
  return { files, gone: inv.missing ?? [], bytes };
}
