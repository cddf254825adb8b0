import type { HistoryEntry } from './history.js';
import { contiguousEnd, type WalInventory } from './inventory.js';
import { parseLsn, segmentOfLsn, timelineHex } from './wal-names.js';

/**
 * Which timeline recovery reads each segment from. A history file (0000000N.history) lists the
 * ancestors of timeline N with the LSN where each was left; recovery reads a segment from the
 * newest timeline that had begun by that segment (so the segment holding a switch point comes
 * from the child, which copied the parent's part of it). A path is that choice, as legs.
 */
export interface Leg {
  timeline: number;
  fromSeg: number;
  /** Last segment read from this timeline; undefined on the last leg (as far as archived). */
  toSeg?: number;
}

export interface TimelinePath {
  /** The timeline recovery follows (recovery_target_timeline). */
  timeline: number;
  legs: Leg[];
  /** Where each timeline on the way branched from its parent, oldest first. */
  switches: { parent: number; child: number; lsn: string }[];
}

export type PathRefusal =
  | { kind: 'no-history' }
  | { kind: 'unrelated'; parents: number[] }
  | { kind: 'branched-before-end'; parent: number; lsn: string; backupEnd: string };

export interface BackupStart {
  timeline: number;
  startSeg: number;
  /** Where the backup became consistent: a child that branched before it does not hold the backup's state. */
  endLsn: string;
}

/**
 * The path from a backup to `timeline`, or why there is none: the history of `timeline` must
 * name the backup's timeline, and that timeline must have been left at or after the backup's end.
 */
export function timelinePath(b: BackupStart, timeline: number, history: HistoryEntry[] | undefined, segmentBytes: number): TimelinePath | PathRefusal {
  if (timeline === b.timeline) return { timeline, legs: [{ timeline, fromSeg: b.startSeg }], switches: [] };
  if (!history) return { kind: 'no-history' };
  const i = history.findIndex((h) => h.parent === b.timeline);
  if (i < 0) return { kind: 'unrelated', parents: history.map((h) => h.parent) };
  if (parseLsn(history[i]!.switchpoint) < parseLsn(b.endLsn)) {
    return { kind: 'branched-before-end', parent: b.timeline, lsn: history[i]!.switchpoint, backupEnd: b.endLsn };
  }
  const chain = history.slice(i);
  const legs: Leg[] = [];
  const switches: TimelinePath['switches'] = [];
  let from = b.startSeg;
  chain.forEach((h, k) => {
    const child = chain[k + 1]?.parent ?? timeline;
    const switchSeg = segmentOfLsn(h.parent, h.switchpoint, segmentBytes).segNo;
    if (switchSeg - 1 >= from) legs.push({ timeline: h.parent, fromSeg: from, toSeg: switchSeg - 1 });
    from = Math.max(from, switchSeg);
    switches.push({ parent: h.parent, child, lsn: h.switchpoint });
  });
  legs.push({ timeline, fromSeg: from });
  return { timeline, legs, switches };
}

export function isPath(p: TimelinePath | PathRefusal): p is TimelinePath {
  return 'legs' in p;
}

/** The timeline a segment of the path is read from. */
export function timelineOfSegment(legs: Leg[], segNo: number): number {
  for (const leg of legs) if (leg.toSeg === undefined || segNo <= leg.toSeg) return leg.timeline;
  return legs.at(-1)!.timeline;
}

/**
 * The last segment replay reaches along the path without a gap, or undefined when the first one
 * is not archived. `entered` says whether replay gets onto the path's last timeline at all.
 */
export function pathEnd(path: TimelinePath, inv: WalInventory): { timeline: number; seg: number; entered: boolean } | undefined {
  let last: { timeline: number; seg: number } | undefined;
  for (const [k, leg] of path.legs.entries()) {
    const from = last ? last.seg + 1 : leg.fromSeg;
    const end = contiguousEnd(inv, leg.timeline, from);
    if (end === undefined) return last && { ...last, entered: false };
    const isLast = k === path.legs.length - 1;
    if (isLast) return { timeline: leg.timeline, seg: end, entered: true };
    if (end < leg.toSeg!) return { timeline: leg.timeline, seg: end, entered: false };
    last = { timeline: leg.timeline, seg: leg.toSeg! };
  }
  return undefined;
}

/** "timeline 2 branched from timeline 1 at 0/5000000 (00000002.history)". */
export function describeSwitches(path: TimelinePath): string {
  const each = path.switches.map((s) => `timeline ${s.child} branched from timeline ${s.parent} at ${s.lsn}`).join(', ');
  return `${each} (${timelineHex(path.timeline)}.history)`;
}
