import { closeSync, fstatSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { WalInventory } from '../pitr/inventory.js';
import { DEFAULT_SEGMENT_BYTES, parseSegment, SEGMENT_RE } from '../pitr/wal-names.js';
import { Dir, READ_FLAGS, UnsafePath } from './safe-dir.js';
import { ArchiveFault, type StoredFile } from './stored.js';

/**
 * `dbdrill stream` (pg_receivewal) writes into `<repo>/stream/`: the segment it is receiving as
 * `<segment>.partial` (pre-padded to the full segment size by pg_receivewal), completed segments
 * and timeline history files under their own names. Completed files are moved into wal/ through
 * walPush — the same checks and no-overwrite rule as archive_command — so streaming and
 * archive_command can feed one archive side by side. The `.partial` stays here until complete;
 * the window and wal-fetch read it for the last seconds of WAL.
 */
export const STREAM_DIR = 'stream';
const PARTIAL_RE = /^([0-9A-F]{24})\.partial$/;

export function streamDir(repo: string): string {
  return join(repo, STREAM_DIR);
}

/** The segments pg_receivewal is receiving (normally one), by name, oldest first. */
export function streamPartials(repo: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(streamDir(repo));
  } catch {
    return [];
  }
  return entries.flatMap((e) => PARTIAL_RE.exec(e)?.[1] ?? []).sort();
}

/**
 * The inventory with the stream's `.partial` segments added where wal/ lacks them: a restore to
 * `latest` replays the partial segment (wal-fetch hands it over under its segment name), so the
 * window ends at its last commit. Its mtime is when WAL last arrived.
 */
export function withStreamPartials(inv: WalInventory, repo: string, segmentBytes = DEFAULT_SEGMENT_BYTES): WalInventory {
  const partials = streamPartials(repo);
  if (partials.length === 0) return inv;
  const timelines = new Map([...inv.timelines].map(([tl, segs]) => [tl, [...segs]]));
  const newestArchivedAt = new Map(inv.newestArchivedAt);
  for (const name of partials) {
    const s = parseSegment(name, segmentBytes)!;
    const segs = timelines.get(s.timeline) ?? [];
    if (segs.includes(s.segNo)) continue;
    segs.push(s.segNo);
    segs.sort((a, b) => a - b);
    timelines.set(s.timeline, segs);
    try {
      const m = statSync(join(streamDir(repo), `${name}.partial`)).mtimeMs;
      if (segs.at(-1) === s.segNo) newestArchivedAt.set(s.timeline, Math.max(m, newestArchivedAt.get(s.timeline) ?? 0));
    } catch {
      // completed and moved meanwhile: wal/ has it
    }
  }
  return { ...inv, timelines, newestArchivedAt };
}

/**
 * The stream's `.partial` copy of segment `name`, open for reading as a plain segment (its first
 * page header and size are checked as it is read, as for a legacy plain copy), or undefined.
 * Opened through the repository root already opened, never through a symlink.
 */
export function openStreamPartial(root: Dir, name: string): StoredFile | undefined {
  if (!SEGMENT_RE.test(name)) return undefined;
  let dir: Dir;
  try {
    dir = root.child(STREAM_DIR);
  } catch (e) {
    if (!(e instanceof UnsafePath)) throw e;
    if (e.code === 'ENOENT') return undefined;
    // A stream/ that is a link or unreadable must stop recovery, not look like the end of the archive.
    throw new ArchiveFault(name, e.message, e.code === 'EACCES' ? "let the server's user read the archive" : `${STREAM_DIR}/ must be a real directory inside the repository`);
  }
  try {
    const file = `${name}.partial`;
    let fd: number;
    try {
      fd = openSync(dir.at(file), READ_FLAGS);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      return undefined;
    }
    return { name, form: 'plain', path: `${dir.path}/${file}`, fd, size: st.size };
  } finally {
    dir.close();
  }
}
