import { randomBytes } from 'node:crypto';
import { closeSync, fchownSync, fsyncSync, linkSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { CREATE_FLAGS, Dir, READ_FLAGS, UnsafePath } from './safe-dir.js';

/**
 * What the archive knows of the server writing into it: its WAL segment size and system id,
 * recorded by the first segment pushed (wal/archive.json, written once) so that later pushes from
 * another server or with another segment size are refused, and so that readers of segment names
 * (inventory, planner) can learn the size without guessing 16 MB.
 *
 * It lives in wal/ and not in repo.json because wal-push runs as the server's user, which owns
 * wal/ but not repo.json (root's 0600 file in a 0711 repository). A `walSegmentBytes` or
 * `systemId` in repo.json, when this user can read it, is checked too.
 */
export const ARCHIVE_FACTS_FILE = 'archive.json';

export interface ArchiveFacts {
  walSegmentBytes?: number;
  systemId?: string;
}

/** Known facts with the file that records them, for the sentence that quotes them. */
export interface RecordedFacts extends ArchiveFacts {
  source: string;
}

function parseFacts(text: string): ArchiveFacts {
  const v = JSON.parse(text) as Record<string, unknown>;
  const out: ArchiveFacts = {};
  if (typeof v.walSegmentBytes === 'number') out.walSegmentBytes = v.walSegmentBytes;
  if (typeof v.systemId === 'string' && v.systemId !== '') out.systemId = v.systemId;
  return out;
}

function readFactsFile(path: string): ArchiveFacts | undefined {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') return undefined;
    throw e;
  }
  try {
    return parseFacts(readFileSync(fd, 'utf8'));
  } catch {
    // A damaged facts file must not stop archiving; it is rewritten by nobody, so say nothing.
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The facts recorded in wal/archive.json and repo.json, each with its source. */
export function recordedFacts(root: Dir, wal: Dir): RecordedFacts[] {
  const out: RecordedFacts[] = [];
  const archive = readFactsFile(wal.at(ARCHIVE_FACTS_FILE));
  if (archive) out.push({ source: `${wal.path}/${ARCHIVE_FACTS_FILE}`, ...archive });
  const repo = readFactsFile(root.at('repo.json'));
  if (repo && (repo.systemId || repo.walSegmentBytes)) out.push({ source: `${root.path}/repo.json`, ...repo });
  return out;
}

/**
 * Records the facts once: a concurrent first push may win the race, and then its facts stand
 * (the caller checks against them). Owned by `owner` when root writes into the server's wal/.
 */
export function recordFacts(wal: Dir, facts: Required<ArchiveFacts>, owner?: { uid: number; gid: number }): void {
  const tmpName = `.${ARCHIVE_FACTS_FILE}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(wal.at(tmpName), CREATE_FLAGS, 0o600);
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    const body = Buffer.from(`${JSON.stringify({ format: 'dbdrill-wal-archive', formatVersion: 1, ...facts }, null, 2)}\n`);
    for (let off = 0; off < body.length; ) off += writeSync(fd, body, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(wal.at(tmpName), wal.at(ARCHIVE_FACTS_FILE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(wal.at(tmpName), { force: true });
  }
  fsyncSync(wal.fd);
}

/**
 * The archive's segment size and system id for readers outside wal-push (planner, inventory,
 * health): wal/archive.json first, then repo.json; empty when nothing records them yet.
 */
export function archiveFacts(repo: string): ArchiveFacts {
  let root: Dir | undefined;
  let wal: Dir | undefined;
  try {
    root = Dir.openRoot(repo);
    wal = root.child('wal');
    const all = recordedFacts(root, wal);
    return {
      ...(all.find((f) => f.walSegmentBytes) ? { walSegmentBytes: all.find((f) => f.walSegmentBytes)!.walSegmentBytes } : {}),
      ...(all.find((f) => f.systemId) ? { systemId: all.find((f) => f.systemId)!.systemId } : {}),
    };
  } catch (e) {
    if (e instanceof UnsafePath) return {};
    throw e;
  } finally {
    wal?.close();
    root?.close();
  }
}
