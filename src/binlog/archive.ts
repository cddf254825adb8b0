import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DbdrillError } from '../errors.js';
import { fsyncDir, writeFileAtomic } from '../repo/atomic.js';
import { sha256File } from '../repo/checksum.js';
import { readJsonFile } from '../util/untrusted-file.js';
import { isClosed, scanBinlogFile, whyNotClosed, type BinlogScan } from './events.js';
import { parseBinlogIndex } from './index-schema.js';
import { compareBinlogNames, findBinlogGaps, parseBinlogFileName, type BinlogGap } from './names.js';

/**
 * The binlog archive: <repo>/binlog/<file> holds closed binary logs exactly as the server wrote
 * them, and <repo>/binlog/index.json records each one's size, SHA-256 and event times. The files
 * are the truth; the index saves re-reading them and is rebuilt from them where it falls behind
 * (a run interrupted between placing a file and recording it). Temporary files and directories
 * start with a dot and are never taken for archived binlogs.
 */
export const INDEX_FILE = 'index.json';

export function binlogRoot(repo: string): string {
  return join(repo, 'binlog');
}

export interface ArchivedBinlog {
  file: string;
  size: number;
  /** Absent for a file found in the archive but not (yet) in the index. */
  sha256?: string;
  /** When the server opened and closed the file (header times, whole seconds, UTC). */
  firstEventAt?: string;
  lastEventAt?: string;
  /** The last event that changed data. */
  lastChangeAt?: string;
  transactions: number;
  serverId?: number;
  serverVersion?: string;
  /** When dbdrill archived it. */
  archivedAt?: string;
  /**
   * Encrypted with age (src/binlog/sealed.ts): the binlog's own size and sha256, while `size` and
   * `sha256` are the stored ciphertext's.
   */
  plain?: { bytes: number; sha256: string };
  /**
   * Set only for a file found in the archive that is not a whole, closed binlog (copied there by
   * hand, cut short): a replay cannot go through it, so it ends the gap-free run like a gap.
   */
  problem?: string;
}

export interface BinlogIndex {
  format: 'dbdrill-binlog-index';
  formatVersion: 1;
  files: ArchivedBinlog[];
}

const emptyIndex = (): BinlogIndex => ({ format: 'dbdrill-binlog-index', formatVersion: 1, files: [] });

/**
 * The index, or an empty one when there is none (it is then rebuilt from the files). One that is
 * there but damaged, foreign or newer is refused with a sentence naming the field: its checksums
 * are the archive's reference, not something to replace quietly.
 */
export function readIndex(repo: string): BinlogIndex {
  const file = join(binlogRoot(repo), INDEX_FILE);
  const raw = readJsonFile(file);
  if (raw === undefined) return emptyIndex();
  const idx: BinlogIndex = parseBinlogIndex(raw, file);
  return idx;
}

/**
 * Writes the index: these entries, plus every entry recorded before that they do not replace. A
 * file that was archived keeps its record (size and SHA-256 at archive time) after it is damaged
 * or lost, so a restore can tell a broken archive from one that simply ends there.
 */
export function writeIndex(repo: string, files: ArchivedBinlog[]): void {
  const names = new Set(files.map((f) => f.file));
  const kept = readIndex(repo).files.filter((f) => !names.has(f.file));
  const idx: BinlogIndex = { ...emptyIndex(), files: [...files, ...kept].sort((a, b) => compareBinlogNames(a.file, b.file)) };
  writeFileAtomic(join(binlogRoot(repo), INDEX_FILE), `${JSON.stringify(idx, null, 2)}\n`);
}

/** Names of the archived binlogs (regular files named like base.000123), in order. */
export function listArchived(repo: string): string[] {
  let names: string[];
  try {
    names = readdirSync(binlogRoot(repo));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new DbdrillError('invalid-input', `The binlog archive ${binlogRoot(repo)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check its permissions.`);
  }
  return names.filter((n) => parseBinlogFileName(n) !== undefined).sort(compareBinlogNames);
}

export function entryOf(file: string, size: number, scan: BinlogScan, sha256?: string, archivedAt?: string): ArchivedBinlog {
  return {
    file,
    size,
    ...(sha256 ? { sha256 } : {}),
    ...(scan.firstEventAt ? { firstEventAt: scan.firstEventAt } : {}),
    ...(scan.lastEventAt ? { lastEventAt: scan.lastEventAt } : {}),
    ...(scan.lastChangeAt ? { lastChangeAt: scan.lastChangeAt } : {}),
    transactions: scan.transactions,
    ...(scan.serverId !== undefined ? { serverId: scan.serverId } : {}),
    ...(scan.serverVersion ? { serverVersion: scan.serverVersion } : {}),
    ...(archivedAt ? { archivedAt } : {}),
    ...(isClosed(scan) ? {} : { problem: whyNotClosed(scan)! }),
  };
}

export interface BinlogInventory {
  dir: string;
  /** Every archived file in order, from the index or (when the index lacks it) read from the file. */
  files: ArchivedBinlog[];
  gaps: BinlogGap[];
  /** Files that are in the archive but not in the index. */
  unindexed: string[];
  /** Files the index records as archived that are no longer in the archive. */
  missing?: ArchivedBinlog[];
}

export function sizeProblem(actual: number, recorded: number): string {
  return `it holds ${actual} bytes where ${recorded} were archived`;
}

/**
 * What the archive holds. Files the index does not describe are read once; a file whose size is
 * not the one recorded when it was archived is damaged (cut short or grown), whatever it holds.
 */
export async function readBinlogInventory(repo: string, signal?: AbortSignal): Promise<BinlogInventory> {
  const dir = binlogRoot(repo);
  const names = listArchived(repo);
  const indexed = new Map(readIndex(repo).files.map((f) => [f.file, f]));
  const files: ArchivedBinlog[] = [];
  const unindexed: string[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    let size: number;
    try {
      const st = statSync(join(dir, name));
      if (!st.isFile()) continue;
      size = st.size;
    } catch {
      continue;
    }
    seen.add(name);
    const known = indexed.get(name);
    if (known && known.size === size) {
      files.push(known);
      continue;
    }
    if (known) {
      files.push({ ...known, problem: sizeProblem(size, known.size) });
      continue;
    }
    unindexed.push(name);
    files.push(entryOf(name, size, await scanBinlogFile(join(dir, name), signal)));
  }
  const missing = [...indexed.values()].filter((f) => !seen.has(f.file));
  return { dir, files, gaps: findBinlogGaps(names), unindexed, ...(missing.length ? { missing } : {}) };
}

/**
 * The intact archived files with their checksums: what the index lacks is read and added. Files
 * that are damaged or gone are left out here; writeIndex keeps their records.
 */
export async function reindex(repo: string, signal?: AbortSignal): Promise<ArchivedBinlog[]> {
  const dir = binlogRoot(repo);
  const inv = await readBinlogInventory(repo, signal);
  const out: ArchivedBinlog[] = [];
  for (const f of inv.files) {
    if (f.problem !== undefined) continue;
    if (f.sha256 !== undefined) out.push(f);
    else {
      const path = join(dir, f.file);
      const { sha256 } = await sha256File(path);
      out.push({ ...f, sha256, archivedAt: statSync(path).mtime.toISOString() });
    }
  }
  return out;
}

/** A private directory inside the archive for files on their way in (same filesystem: rename works). */
export function incomingDir(repo: string): string {
  const root = binlogRoot(repo);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const dir = join(root, `.incoming-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

export interface Placed {
  entry: ArchivedBinlog;
  alreadyArchived: boolean;
}

/** A fetched binlog goes into the archive only when it is closed, and only once it is on disk. */
function closedAndDurable(path: string, name: string, scan: BinlogScan): void {
  if (!isClosed(scan)) {
    throw new DbdrillError('failed', `The copy of ${name} is not a closed binlog (${whyNotClosed(scan)}); it was not archived — run binlog-sync again, and if it persists check the server's binlog.`, { file: name });
  }
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Moves a fetched, closed binlog into the archive under its name without ever replacing a file
 * there: the same bytes already archived are success, different bytes are an error naming both
 * checksums. The file and the directory are fsynced before this returns.
 */
export async function placeBinlog(repo: string, tmpPath: string, name: string, signal?: AbortSignal): Promise<Placed> {
  const scan = await scanBinlogFile(tmpPath, signal);
  closedAndDurable(tmpPath, name, scan);
  const { sha256, bytes } = await sha256File(tmpPath);
  const root = binlogRoot(repo);
  const dest = join(root, name);
  try {
    // link() fails when the name exists, unlike rename(): an archived file is never replaced.
    linkSync(tmpPath, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const have = await sha256File(dest);
    rmSync(tmpPath, { force: true });
    if (have.sha256 !== sha256) throw differentBytes(name, have.sha256, sha256, repo);
    return { entry: entryOf(name, bytes, scan, sha256, statSync(dest).mtime.toISOString()), alreadyArchived: true };
  }
  rmSync(tmpPath, { force: true });
  fsyncDir(root);
  return { entry: entryOf(name, bytes, scan, sha256, new Date().toISOString()), alreadyArchived: false };
}

/**
 * placeBinlog for an encrypted copy (src/binlog/sealed.ts): `fetched` is the ciphertext, with the
 * scan and sums of its plain bytes taken on their way into age. The index entry is written before
 * the file is linked into place: an encrypted file the index does not describe could not be
 * described again without the key. An archived file under the name is the same binlog when its
 * recorded plain sha256 is this one's (ciphertexts of equal content always differ).
 */
export async function placeSealedBinlog(repo: string, fetched: { path: string; plain: { bytes: number; sha256: string }; scan: BinlogScan }, name: string, signal?: AbortSignal): Promise<Placed> {
  const { path, plain, scan } = fetched;
  closedAndDurable(path, name, scan);
  const { sha256, bytes } = await sha256File(path);
  if (signal?.aborted) throw new DbdrillError('aborted', `binlog-sync was cancelled while archiving ${name}.`);
  const root = binlogRoot(repo);
  const dest = join(root, name);
  const prior = readIndex(repo).files.find((f) => f.file === name);
  const here = existsSync(dest);
  // A prior entry without its file: a run stopped between the two, or the file was lost; placed again.
  const same = prior?.plain?.sha256 === plain.sha256;
  if (here || (prior && !same)) {
    rmSync(path, { force: true });
    if (here && prior && same) return { entry: prior, alreadyArchived: true };
    if (here && !prior) {
      throw new DbdrillError('failed', `${name} is in the encrypted binlog archive but not in its index, and an encrypted file cannot be compared without the key; move ${dest} away, then run binlog-sync again.`, { file: name });
    }
    throw differentBytes(name, prior!.plain?.sha256 ?? prior!.sha256 ?? 'unknown', plain.sha256, repo);
  }
  const entry: ArchivedBinlog = { ...entryOf(name, bytes, scan, sha256, new Date().toISOString()), plain };
  writeIndex(repo, [entry]);
  linkSync(path, dest);
  rmSync(path, { force: true });
  fsyncDir(root);
  return { entry, alreadyArchived: false };
}

export function differentBytes(name: string, archived: string, incoming: string, repo: string): DbdrillError {
  return new DbdrillError(
    'failed',
    `${name} is already archived with different contents (archived sha256 ${archived}, server's sha256 ${incoming}); it was not overwritten — check whether the server's binary logs were reset (RESET MASTER) or another server archives into ${repo}.`,
    { file: name, archived, incoming },
  );
}
