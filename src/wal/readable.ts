import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { segmentName } from '../pitr/wal-names.js';
import { copyChecked } from './fetch.js';
import { openStreamPartial } from './stream-dir.js';
import { DbdrillError } from '../errors.js';
import { closeStored, openArchive, openStored, readDbwHeader, readStoredInto, readStoredSync, type StoredFile } from './stored.js';

/**
 * The segments are encrypted and no identity was given: what reads WAL records (pg_waldump) cannot
 * run. Callers that only enrich a view (the window's last commit, verify's record CRC pass, whose
 * damage at rest the stored sha256 already covers) skip; a restore asked for the key before this.
 */
export class NoKeyForWal extends DbdrillError {
  constructor(name: string) {
    super('failed', `${name} and the archived WAL around it are encrypted with age; give --identity FILE (or DBDRILL_AGE_IDENTITY) with the private key matching the target's --encrypt-to recipient.`, { name });
    this.name = 'NoKeyForWal';
  }
}

/**
 * Runs `fn` with a directory where the archived segments `segNos` of `timeline` (those that are
 * archived) are plain files, for tools such as pg_waldump that read WAL files by name: the
 * archive's own directory when they are all legacy plain copies, else a private temp directory
 * of checked copies, removed afterwards. A damaged copy throws its ArchiveFault.
 */
export async function withPlainSegments<T>(repo: string, timeline: number, segNos: number[], fn: (dir: string) => Promise<T>): Promise<T> {
  const name0 = segmentName({ timeline, segNo: segNos[0] ?? 0 });
  const archive = openArchive(repo, name0);
  const found: StoredFile[] = [];
  try {
    for (const segNo of segNos) {
      const name = segmentName({ timeline, segNo });
      // The segment `dbdrill stream` is receiving counts too: the window ends at its last commit.
      const f = (archive.dir ? openStored(archive.dir, name) : undefined) ?? openStreamPartial(archive.root, name);
      if (f) found.push(f);
    }
    if (found.length === 0 || found.every((f) => f.form === 'plain' && !f.path.endsWith('.partial'))) return await fn(archive.dir ? join(repo, 'wal', name0.slice(0, 8)) : repo);
    if (!process.env.DBDRILL_AGE_IDENTITY && found.some((f) => f.form === 'dbw' && readDbwHeader(f).encoding.includes('age'))) throw new NoKeyForWal(found[0]!.name);
    const dir = mkdtempSync(join(tmpdir(), 'dbdrill-wal-'));
    try {
      for (const f of found) await copyChecked(join(dir, f.name), (fd) => readStoredInto(f, archive.known, fd));
      return await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    for (const f of found) closeStored(f);
    archive.close();
  }
}

/**
 * A small archived file (a timeline history or backup file), checked, or undefined when it is
 * not archived or the repository has no archive.
 */
export function readArchivedFile(repo: string, name: string): Buffer | undefined {
  let archive: ReturnType<typeof openArchive>;
  try {
    archive = openArchive(repo, name);
  } catch {
    return undefined;
  }
  try {
    const f = archive.dir ? openStored(archive.dir, name) : undefined;
    if (!f) return undefined;
    try {
      return readStoredSync(f, archive.known);
    } finally {
      closeStored(f);
    }
  } finally {
    archive.close();
  }
}
