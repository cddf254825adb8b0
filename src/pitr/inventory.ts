import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { archivedHistory, archivedSegment, DEFAULT_SEGMENT_BYTES, parseSegment } from './wal-names.js';

/** What the WAL archive holds, per timeline, as sorted segment numbers. */
export interface WalInventory {
  timelines: Map<number, number[]>;
  /** Timelines that have a .history file. */
  histories: number[];
  /** mtime (ms) of the newest segment per timeline: when it reached the archive. */
  newestArchivedAt: Map<number, number>;
}

/**
 * Reads the archive's directory listing (names only, plus one stat per timeline): 100,000
 * segments list in well under a second. Segments count in any stored form (.dbw, legacy plain or
 * .zst). A timeline directory that is a symbolic link is not the archive's and is not read. Their
 * numbers depend on the cluster's segment size, which names alone do not tell.
 */
export function readInventory(walRoot: string, segmentBytes = DEFAULT_SEGMENT_BYTES): WalInventory {
  const timelines = new Map<number, number[]>();
  const histories: number[] = [];
  const newestArchivedAt = new Map<number, number>();
  let entries: Dirent[];
  try {
    entries = readdirSync(walRoot, { withFileTypes: true });
  } catch {
    return { timelines, histories, newestArchivedAt };
  }
  for (const dirent of entries) {
    const entry = dirent.name;
    const h = archivedHistory(entry);
    if (h !== undefined) {
      if (!histories.includes(h)) histories.push(h);
      continue;
    }
    if (!/^[0-9A-F]{8}$/.test(entry) || !dirent.isDirectory()) continue;
    let segs: number[] = [];
    let newest = '';
    let newestEntry = '';
    for (const file of readdirSync(join(walRoot, entry))) {
      const name = archivedSegment(file);
      if (!name) continue;
      segs.push(parseSegment(name, segmentBytes)!.segNo);
      if (name > newest) {
        newest = name;
        newestEntry = file;
      }
    }
    if (segs.length === 0) continue;
    segs.sort((a, b) => a - b);
    // A segment stored in two forms (a legacy one and .dbw) counts once.
    segs = segs.filter((n, i) => i === 0 || n !== segs[i - 1]);
    const tl = parseInt(entry, 16);
    timelines.set(tl, segs);
    newestArchivedAt.set(tl, statSync(join(walRoot, entry, newestEntry)).mtimeMs);
  }
  histories.sort((a, b) => a - b);
  return { timelines, histories, newestArchivedAt };
}

export interface Gap {
  timeline: number;
  /** First missing segment number. */
  from: number;
  /** Last missing segment number. */
  to: number;
}

/** Missing segments between the first and last archived one of each timeline. */
export function findGaps(inv: WalInventory): Gap[] {
  const gaps: Gap[] = [];
  for (const [tl, segs] of inv.timelines) {
    for (let i = 1; i < segs.length; i++) {
      if (segs[i]! > segs[i - 1]! + 1) gaps.push({ timeline: tl, from: segs[i - 1]! + 1, to: segs[i]! - 1 });
    }
  }
  return gaps;
}

/**
 * The last segment reachable without a gap when replay starts at `start` on `timeline`, or
 * undefined when `start` itself is not archived.
 */
export function contiguousEnd(inv: WalInventory, timeline: number, start: number): number | undefined {
  const segs = inv.timelines.get(timeline);
  if (!segs) return undefined;
  let i = lowerBound(segs, start);
  if (segs[i] !== start) return undefined;
  while (i + 1 < segs.length && segs[i + 1] === segs[i]! + 1) i++;
  return segs[i];
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
