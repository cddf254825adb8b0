import { invalid } from '../errors.js';
import type { Manifest } from '../repo/manifest.js';
import type { ArchivedBinlog } from './archive.js';
import { scanArchived } from './sealed.js';
import { compareBinlogNames } from './names.js';
import { BoundaryTracker, gtidCoveredBy, parseGtid } from './stops.js';

/** A replay's stop, found in the archive: before the event at `position` of `file`. */
export interface ResolvedStop {
  file: string;
  position: number;
  /** GTID targets: the transaction that ends there, and its time. */
  gtid?: string;
  at?: string;
}

const usable = (files: ArchivedBinlog[]) => files.filter((f) => f.problem === undefined);

/**
 * Finds where the transaction with this GTID ends, reading the archived binlogs' event headers
 * from the earliest backup's binlog file on (a GTID cannot matter before it), up to the file that
 * holds it. Refuses, with the window, a GTID every backup already holds or the archive lacks.
 */
export async function locateGtid(repo: string, files: ArchivedBinlog[], bases: Manifest[], gtid: string, window: string, signal?: AbortSignal): Promise<ResolvedStop> {
  const g = parseGtid(gtid)!;
  const earliest = [...bases].sort((a, b) => compareBinlogNames(a.mysql!.binlogFile!, b.mysql!.binlogFile!) || a.mysql!.binlogPosition! - b.mysql!.binlogPosition!)[0];
  if (earliest && gtidCoveredBy(g, earliest.mysql?.gtid)) {
    throw invalid(`GTID ${gtid} is already in every backup (the earliest, ${earliest.id}, holds up to ${earliest.mysql!.gtid}), so no replay can stop after it; the recoverable window is ${window}.`);
  }
  const from = earliest?.mysql?.binlogFile;
  const candidates = usable(files).filter((f) => from === undefined || compareBinlogNames(f.file, from) >= 0);
  let first: string | undefined;
  let last: string | undefined;
  for (const f of candidates) {
    const t = new BoundaryTracker({ gtid });
    const scan = await scanArchived(repo, f, signal, (e) => t.push(e));
    t.finish(scan.validBytes);
    first ??= t.gtidRange.first;
    last = t.gtidRange.last ?? last;
    const span = t.found;
    if (span) return { file: f.file, position: span.end, gtid, at: new Date(span.ts * 1000).toISOString() };
  }
  const held = first ? `hold GTIDs ${first} … ${last}` : 'hold no GTID';
  throw invalid(`GTID ${gtid} is not in the binlog archive (the archived binlogs${from ? ` from ${from}` : ''} ${held}); the recoverable window is ${window}.`);
}

/**
 * Checks that FILE:POS is archived and is a transaction boundary there (reading that file's event
 * headers), or refuses in one sentence naming the boundaries around it and the window.
 */
export async function checkPosition(repo: string, files: ArchivedBinlog[], file: string, position: number, window: string, signal?: AbortSignal): Promise<ResolvedStop> {
  const entry = files.find((f) => f.file === file);
  const names = usable(files).map((f) => f.file);
  if (!entry) {
    throw invalid(`${file} is not in the binlog archive (${names.length ? `it holds ${names[0]} … ${names.at(-1)}` : 'it is empty'}); the recoverable window is ${window}.`);
  }
  if (entry.problem !== undefined) throw invalid(`The archived ${file} is damaged (${entry.problem}), so no replay can stop in it; the recoverable window is ${window}.`);
  const t = new BoundaryTracker({ position });
  const scan = await scanArchived(repo, entry, signal, (e) => t.push(e));
  t.finish(scan.validBytes);
  if (position > scan.validBytes) {
    throw invalid(`${file}:${position} is past the end of ${file} (its events end at ${scan.validBytes}); the recoverable window is ${window}.`);
  }
  const at = t.atPosition!;
  if (at.kind === 'inside') {
    throw invalid(
      `${file}:${position} is inside transaction ${at.span.gtid} (${file}:${at.span.start}…${at.span.end}); give --position ${file}:${at.span.start} to stop before it or ${file}:${at.span.end} to include it.`,
    );
  }
  if (at.kind === 'between') {
    throw invalid(
      `${file}:${position} is not where an event starts (${at.before < 0 ? `the first event starts at ${at.after}` : `events start at ${at.before} and ${at.after}`}); give a transaction's first event (SHOW BINLOG EVENTS lists them) or the end of the file.`,
    );
  }
  return { file, position };
}
