import type { Manifest } from '../repo/manifest.js';
import { contiguousEnd, type WalInventory } from './inventory.js';
import { segmentOfLsn } from './wal-names.js';
import { baseBackups } from './window.js';

/** How far back the newest commit is looked for when the newest segments hold none (an idle server). */
export const COMMIT_LOOKBACK = 64;

/** Runs fn with a directory where the given archived segments of a timeline are plain files. */
export type PlainSegments = <T>(timeline: number, segNos: number[], fn: (dir: string) => Promise<T>) => Promise<T>;

/** The newest commit time in one segment read from dir (pg_waldump), or undefined when it holds none. */
export type CommitInSegment = (dir: string, timeline: number, segNo: number, serverMajor: number) => Promise<{ at: Date } | undefined>;

/**
 * The last commit reachable from each backup: the newest commit in the last segment of the gap-free
 * run from its start, walking back through commit-less segments. Whatever the archive's layout
 * (dbdrill's wal/ or pgBackRest's), only `plain` differs. Returns the lookup the window and planner take.
 */
export async function lastCommitsAtRunEnds(
  manifests: Manifest[],
  inventory: WalInventory,
  plain: PlainSegments,
  commitIn: CommitInSegment,
): Promise<(timeline: number, seg: number) => Date | undefined> {
  const known = new Map<string, Date | undefined>();
  for (const m of baseBackups(manifests)) {
    const tl = m.postgres!.timeline ?? 1;
    const start = segmentOfLsn(tl, m.postgres!.startLsn!).segNo;
    const end = contiguousEnd(inventory, tl, start);
    if (end === undefined || known.has(`${tl}:${end}`)) continue;
    const major = Number(m.serverVersion.split('.')[0]);
    let found: Date | undefined;
    for (let seg = end; seg >= Math.max(start, end - COMMIT_LOOKBACK) && !found; seg--) {
      // The next segment too: a commit record may continue into it.
      found = (await plain(tl, [seg, seg + 1], (dir) => commitIn(dir, tl, seg, major)))?.at;
    }
    known.set(`${tl}:${end}`, found);
  }
  return (tl, seg) => known.get(`${tl}:${seg}`);
}
