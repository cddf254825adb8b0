import type { Manifest } from '../repo/manifest.js';
import { contiguousEnd, findGaps, type WalInventory } from './inventory.js';
import { segmentName, segmentOfLsn } from './wal-names.js';

/** How far one base backup can be rolled forward with the archive as it is. */
export interface Coverage {
  backup: string;
  timeline: number;
  /** The backup's earliest restorable time. */
  from: Date;
  /** The last commit reachable by replaying archived WAL without a gap (from when there is none). */
  to: Date;
  startSeg: number;
  /** Last segment of the gap-free run from the backup's start, if the start is archived. */
  endSeg?: number;
}

export interface RecoverableWindow {
  from?: string;
  to?: string;
  ranges: { backup: string; timeline: number; from: string; to: string }[];
  gaps: { timeline: number; from: string; to: string; missing: number }[];
  timelines: number[];
  /** Archived segments of each timeline, oldest timeline first (PostgreSQL; binlogs have none). */
  perTimeline?: { timeline: number; segments: number; first: string; last: string; history: boolean }[];
  segments: number;
  newestSegment?: string;
  newestArchivedAt?: string;
}

/** Complete physical PostgreSQL backups that can start a point-in-time restore, oldest first (never a corrupt one). */
export function baseBackups(manifests: Manifest[], status: 'complete' | 'corrupt' = 'complete'): Manifest[] {
  return manifests
    .filter((m) => m.status === status && m.kind === 'physical' && m.engine === 'postgres' && m.postgres?.consistentAt && m.postgres.startLsn)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * `lastCommit(timeline, seg)` answers from pg_waldump (resolved by the caller) the newest
 * commit time at or before the end of that segment, or undefined if none is known.
 */
export function coverageOf(m: Manifest, inv: WalInventory, lastCommit: (timeline: number, seg: number) => Date | undefined): Coverage {
  const pgm = m.postgres!;
  const timeline = pgm.timeline ?? 1;
  const from = new Date(pgm.consistentAt!);
  const startSeg = segmentOfLsn(timeline, pgm.startLsn!).segNo;
  const endSeg = contiguousEnd(inv, timeline, startSeg);
  let to = from;
  if (endSeg !== undefined) {
    const t = lastCommit(timeline, endSeg);
    if (t && t > from) to = t;
  }
  return { backup: m.id, timeline, from, to, startSeg, ...(endSeg !== undefined ? { endSeg } : {}) };
}

export function computeWindow(manifests: Manifest[], inv: WalInventory, lastCommit: (timeline: number, seg: number) => Date | undefined): RecoverableWindow {
  const covs = baseBackups(manifests).map((m) => coverageOf(m, inv, lastCommit));
  let segments = 0;
  let newest: { tl: number; seg: number } | undefined;
  for (const [tl, segs] of inv.timelines) {
    segments += segs.length;
    const last = segs.at(-1)!;
    if (!newest || tl > newest.tl || (tl === newest.tl && last > newest.seg)) newest = { tl, seg: last };
  }
  const archivedAt = newest ? inv.newestArchivedAt.get(newest.tl) : undefined;
  const w: RecoverableWindow = {
    ranges: covs.map((c) => ({ backup: c.backup, timeline: c.timeline, from: c.from.toISOString(), to: c.to.toISOString() })),
    gaps: findGaps(inv).map((g) => ({
      timeline: g.timeline,
      from: segmentName({ timeline: g.timeline, segNo: g.from }),
      to: segmentName({ timeline: g.timeline, segNo: g.to }),
      missing: g.to - g.from + 1,
    })),
    timelines: [...inv.timelines.keys()].sort((a, b) => a - b),
    perTimeline: [...inv.timelines.entries()].sort(([a], [b]) => a - b).map(([timeline, segs]) => ({
      timeline,
      segments: segs.length,
      first: segmentName({ timeline, segNo: segs[0]! }),
      last: segmentName({ timeline, segNo: segs.at(-1)! }),
      history: inv.histories.includes(timeline),
    })),
    segments,
    ...(newest ? { newestSegment: segmentName({ timeline: newest.tl, segNo: newest.seg }) } : {}),
    ...(archivedAt ? { newestArchivedAt: new Date(archivedAt).toISOString() } : {}),
  };
  if (covs.length > 0) {
    w.from = new Date(Math.min(...covs.map((c) => c.from.getTime()))).toISOString();
    w.to = new Date(Math.max(...covs.map((c) => c.to.getTime()))).toISOString();
  }
  return w;
}

/** "2026-11-24 14:30:00Z → 2026-11-25 09:12:44Z" or a sentence when there is nothing to restore. */
export function describeWindow(w: RecoverableWindow): string {
  if (!w.from || !w.to) return 'no restorable point yet (no complete physical backup)';
  const f = (s: string) => s.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return `${f(w.from)} → ${f(w.to)}`;
}
