import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalid } from '../../../errors.js';
import { parseHistory, type HistoryEntry } from '../../../pitr/history.js';
import type { WalInventory } from '../../../pitr/inventory.js';
import { HISTORY_RE, parseSegment, segmentName, timelineHex } from '../../../pitr/wal-names.js';
import { cliEntry, shellArg } from '../../../wal/command.js';
import { commonArgs, runPgbackrest, type Pgbackrest } from './command.js';
import { stanzaArchiveDir } from './layout.js';
import { storedSegment } from './archive-names.js';

/**
 * archive_command for the server: pgBackRest's async archive-push. It returns once the segment
 * is queued in the spool, and one background process pushes the queue with process-max workers.
 */
export function archivePushCommand(pb: Pick<Pgbackrest, 'tool' | 'layout' | 'stanza' | 'cipherSource'>): string {
  return cipherPrefix(pb) + [pb.tool.path, ...commonArgs(pb), 'archive-push', '%p'].map((a) => (a === '%p' ? a : shellArg(a))).join(' ');
}

/**
 * An encrypted repository's pass for a command the server's shell runs (archive_command,
 * restore_command): read there from the target's file (its first line) or the server's own
 * environment variable, into pgBackRest's environment — the pass itself is never in the setting,
 * in a conf or in any argv (head's argv holds the path). The path was checked to need no quoting.
 */
export function cipherPrefix(pb: Pick<Pgbackrest, 'cipherSource'>): string {
  const src = pb.cipherSource;
  if (src === undefined) return '';
  return 'file' in src ? `PGBACKREST_REPO1_CIPHER_PASS="$(head -n 1 ${src.file})" ` : `PGBACKREST_REPO1_CIPHER_PASS="$${src.env}" `;
}

/** Characters that cannot stand inside restore_command as pgBackRest's restore writes it. */
const UNSAFE_IN_RESTORE_COMMAND = /['"\\$`%\n\r]/;

/**
 * restore_command for a restored server: a plain (not async) archive-get, so that restores never
 * share the source's spool or its archive lock, and so that two restores at once cannot touch each
 * other's queue. --pg1-path is the restored data directory: archive-get checks it.
 * pgBackRest writes this value into postgresql.auto.conf without escaping quotes, so paths are
 * double-quoted for the shell and ones that would break either quoting are refused.
 */
export function archiveGetCommand(pb: Pick<Pgbackrest, 'tool' | 'layout' | 'stanza' | 'cipherSource'>, dataDir: string): string {
  const args = [pb.tool.path, ...commonArgs(pb), `--pg1-path=${dataDir}`, '--no-archive-async'];
  for (const a of args) {
    if (UNSAFE_IN_RESTORE_COMMAND.test(a)) {
      throw invalid(`The path in "${a}" holds a character (' " \\ $ \` % or a line break) that pgBackRest cannot write into restore_command; choose a directory without it.`);
    }
  }
  return `${cipherPrefix(pb)}${args.map(quoteForRestore).join(' ')} archive-get %f "%p"`;
}

/** Double quotes for the shell where needed; the value was checked against UNSAFE_IN_RESTORE_COMMAND. */
function quoteForRestore(a: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(a) ? a : a.replace(/^(--[a-z0-9-]+=)?(.*)$/, (_m, opt: string | undefined, v: string) => `${opt ?? ''}"${v}"`);
}

/**
 * restore_command for a target that streams: archive-get first; only when it exits 1 ("not in
 * the archive") dbdrill's wal-fetch hands over the stream's .partial of that segment (refusing
 * when a later segment is archived: a gap), so a restore reaches the last streamed commit. Any
 * other exit of archive-get is passed on as it is.
 */
export function streamTailRestoreCommand(pb: Pick<Pgbackrest, 'tool' | 'layout' | 'stanza' | 'cipherSource'>, dataDir: string, tail: { repo: string; archiveDir: string }): string {
  const fetch = [process.execPath, cliEntry(), 'wal-fetch', `--repo=${tail.repo}`, `--pgbackrest-archive=${tail.archiveDir}`];
  for (const a of fetch) {
    if (UNSAFE_IN_RESTORE_COMMAND.test(a)) {
      throw invalid(`The path in "${a}" holds a character (' " \\ $ \` % or a line break) that pgBackRest cannot write into restore_command; choose a directory without it.`);
    }
  }
  return `${archiveGetCommand(pb, dataDir)}; r=$?; test $r = 1 && exec ${fetch.map(quoteForRestore).join(' ')} %f "%p"; exit $r`;
}

export { storedSegment };

/** <repo1-path>/archive/<stanza>/<archive id>: where one database's WAL lives. */
export function archiveIdDir(pb: Pick<Pgbackrest, 'layout' | 'stanza'>, archiveId: string): string {
  if (!/^\d+(?:\.\d+)?-\d+$/.test(archiveId)) throw invalid(`"${archiveId}" is not a pgBackRest archive id (like 15-1).`);
  return join(stanzaArchiveDir(pb.layout, pb.stanza), archiveId);
}

/**
 * The pgBackRest archive as dbdrill's WalInventory, read by listing (names only, one stat per
 * timeline), so the window, gap and planner code works on it unchanged:
 * <archive id>/<timeline+log, 16 hex>/<segment>-<sha1>.zst and <archive id>/<timeline>.history.
 */
export function readPgbackrestInventory(archiveDir: string): WalInventory {
  const timelines = new Map<number, number[]>();
  const histories: number[] = [];
  const newestArchivedAt = new Map<number, number>();
  const newest = new Map<number, { name: string; path: string }>();
  let entries: string[];
  try {
    entries = readdirSync(archiveDir);
  } catch {
    return { timelines, histories, newestArchivedAt };
  }
  for (const entry of entries) {
    const h = HISTORY_RE.exec(entry);
    if (h) {
      histories.push(parseInt(h[1]!, 16));
      continue;
    }
    if (!/^[0-9A-F]{16}$/.test(entry)) continue;
    const dir = join(archiveDir, entry);
    for (const file of readdirSync(dir)) {
      const name = storedSegment(file);
      if (!name || name.slice(0, 16) !== entry) continue;
      const seg = parseSegment(name)!;
      const list = timelines.get(seg.timeline) ?? [];
      list.push(seg.segNo);
      timelines.set(seg.timeline, list);
      const n = newest.get(seg.timeline);
      if (!n || name > n.name) newest.set(seg.timeline, { name, path: join(dir, file) });
    }
  }
  for (const [tl, segs] of timelines) {
    segs.sort((a, b) => a - b);
    // A segment pushed twice with different content is stored twice; it is one segment.
    timelines.set(tl, segs.filter((n, i) => i === 0 || n !== segs[i - 1]));
    newestArchivedAt.set(tl, statSync(newest.get(tl)!.path).mtimeMs);
  }
  histories.sort((a, b) => a - b);
  return { timelines, histories, newestArchivedAt };
}

/** A timeline's history file from the pgBackRest archive (stored plain), parsed; undefined when absent. */
export function readPgbackrestHistory(archiveDir: string, timeline: number): HistoryEntry[] | undefined {
  try {
    return parseHistory(readFileSync(join(archiveDir, `${timelineHex(timeline)}.history`), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` with a private directory holding the archived segments `segNos` of `timeline` as
 * plain files (for pg_waldump), fetched with archive-get so that any compression or cipher works.
 * Segments not in the archive are simply absent. The directory goes afterwards.
 */
export async function withPlainSegmentsFromPgbackrest<T>(pb: Pgbackrest, timeline: number, segNos: number[], fn: (dir: string) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'dbdrill-pgbr-wal-'));
  try {
    if (pb.runAs) chownSync(dir, pb.runAs.uid, pb.runAs.gid);
    for (const segNo of segNos) {
      const name = segmentName({ timeline, segNo });
      // Exit 1: not in the archive (what restore_command reports to a recovering server).
      await runPgbackrest(pb, 'archive-get', ['--no-archive-async'], { positional: [name, join(dir, name)], okExitCodes: [0, 1], signal });
    }
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
