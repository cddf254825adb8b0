import type { Manifest } from '../repo/manifest.js';
import type { HistoryEntry } from './history.js';
import { findGaps, type WalInventory } from './inventory.js';
import { microsOf, type Micros } from './micros.js';
import { isPath, pathEnd, timelinePath, type PathRefusal, type TimelinePath } from './timelines.js';
import { DEFAULT_SEGMENT_BYTES, segmentName, segmentOfLsn } from './wal-names.js';

/** A commit found in archived WAL: its time to the microsecond and, when pg_waldump said, its LSN. */
export interface CommitPoint {
  at: Date;
  micros: Micros;
  lsn?: string;
}

/**
 * `lastCommit(timeline, seg)` answers from pg_waldump (resolved by the caller) the newest commit
 * at or before the end of that segment, or undefined if none is known. A bare Date is accepted
 * (millisecond precision, no LSN) from callers that know no more.
 */
export type LastCommit = (timeline: number, seg: number) => CommitPoint | Date | undefined;

/** What the archive says beyond its segment names: the segment size and the timelines' histories. */
export interface ArchiveFacts {
  segmentBytes: number;
  history: (timeline: number) => HistoryEntry[] | undefined;
}

export const DEFAULT_FACTS: ArchiveFacts = { segmentBytes: DEFAULT_SEGMENT_BYTES, history: () => undefined };

/** How far one base backup can be rolled forward along one timeline path, with the archive as it is. */
export interface Coverage {
  backup: string;
  /** The timeline recovery follows to get here. */
  timeline: number;
  /** The backup's own timeline. */
  backupTimeline: number;
  /** The backup's earliest restorable time. */
  from: Date;
  /** The last commit reachable by replaying archived WAL without a gap (from when there is none). */
  to: Date;
  /** That commit, precisely, when one is known. */
  lastCommit?: CommitPoint;
  startSeg: number;
  /** Last segment of the gap-free run along the path, if the start is archived. */
  endSeg?: number;
  /** The timeline endSeg is read from. */
  endTimeline?: number;
  /** Replay gets onto the path's last timeline (false: the archive stops before the branch). */
  entered: boolean;
  path: TimelinePath;
}

export interface RecoverableWindow {
  from?: string;
  to?: string;
  /** The timeline `latest` and a time without --timeline follow (PostgreSQL): the newest the backups reach. */
  timeline?: number;
  /** One per backup and timeline it reaches. */
  ranges: { backup: string; timeline: number; from: string; to: string }[];
  gaps: { timeline: number; from: string; to: string; missing: number }[];
  timelines: number[];
  /** Archived segments of each timeline, oldest timeline first (PostgreSQL; binlogs have none). */
  perTimeline?: { timeline: number; segments: number; first: string; last: string; history: boolean }[];
  segments: number;
  newestSegment?: string;
  newestArchivedAt?: string;
  /** Targets are whole seconds (binlog event times): the window is named in whole seconds too. */
  wholeSeconds?: boolean;
}

/** Complete physical PostgreSQL backups that can start a point-in-time restore, oldest first (never a corrupt one). */
export function baseBackups(manifests: Manifest[], status: 'complete' | 'corrupt' = 'complete'): Manifest[] {
  return manifests
    .filter((m) => m.status === status && m.kind === 'physical' && m.engine === 'postgres' && m.postgres?.consistentAt && m.postgres.startLsn)
    .sort((a, b) => a.id.localeCompare(b.id));
}

export function commitPoint(c: CommitPoint | Date | undefined): CommitPoint | undefined {
  return c instanceof Date ? { at: c, micros: microsOf(c) } : c;
}

function backupStart(m: Manifest, segmentBytes: number) {
  const pgm = m.postgres!;
  const timeline = pgm.timeline ?? 1;
  return { timeline, startSeg: segmentOfLsn(timeline, pgm.startLsn!, segmentBytes).segNo, endLsn: pgm.stopLsn ?? pgm.startLsn! };
}

/** The coverage of backup `m` along `timeline` (its own by default), or why recovery cannot follow that timeline from it. */
export function coverageOn(m: Manifest, timeline: number, inv: WalInventory, lastCommit: LastCommit, facts: ArchiveFacts = DEFAULT_FACTS): Coverage | PathRefusal {
  const start = backupStart(m, facts.segmentBytes);
  const path = timelinePath(start, timeline, facts.history(timeline), facts.segmentBytes);
  if (!isPath(path)) return path;
  const from = new Date(m.postgres!.consistentAt!);
  const end = pathEnd(path, inv);
  const commit = end ? commitPoint(lastCommit(end.timeline, end.seg)) : undefined;
  const reached = commit && commit.at > from ? commit : undefined;
  return {
    backup: m.id,
    timeline,
    backupTimeline: start.timeline,
    from,
    to: reached?.at ?? from,
    ...(reached ? { lastCommit: reached } : {}),
    startSeg: start.startSeg,
    ...(end ? { endSeg: end.seg, endTimeline: end.timeline } : {}),
    entered: end?.entered ?? false,
    path,
  };
}

/** How far a backup rolls forward on its own timeline. */
export function coverageOf(m: Manifest, inv: WalInventory, lastCommit: LastCommit, facts: ArchiveFacts = DEFAULT_FACTS): Coverage {
  return coverageOn(m, m.postgres!.timeline ?? 1, inv, lastCommit, facts) as Coverage;
}

/**
 * Every timeline a backup can be rolled forward on: its own, and each later one whose archived
 * history branches from it after the backup's end and whose segments the archive holds from there.
 */
export function reachableCoverages(m: Manifest, inv: WalInventory, lastCommit: LastCommit, facts: ArchiveFacts = DEFAULT_FACTS): Coverage[] {
  const own = m.postgres!.timeline ?? 1;
  const out = [coverageOf(m, inv, lastCommit, facts)];
  for (const tl of inv.histories) {
    if (tl <= own) continue;
    const c = coverageOn(m, tl, inv, lastCommit, facts);
    if ('path' in c && c.entered) out.push(c);
  }
  return out;
}

/** The timeline PostgreSQL's default (latest) would follow from these backups: the newest any of them reaches. */
export function newestTimeline(covs: Coverage[]): number | undefined {
  const tls = covs.filter((c) => c.entered || c.timeline === c.backupTimeline).map((c) => c.timeline);
  return tls.length ? Math.max(...tls) : undefined;
}

export function computeWindow(manifests: Manifest[], inv: WalInventory, lastCommit: LastCommit, facts: ArchiveFacts = DEFAULT_FACTS): RecoverableWindow {
  const covs = baseBackups(manifests).flatMap((m) => reachableCoverages(m, inv, lastCommit, facts));
  const name = (timeline: number, segNo: number) => segmentName({ timeline, segNo }, facts.segmentBytes);
  let segments = 0;
  let newest: { tl: number; seg: number } | undefined;
  for (const [tl, segs] of inv.timelines) {
    segments += segs.length;
    const last = segs.at(-1)!;
    if (!newest || tl > newest.tl || (tl === newest.tl && last > newest.seg)) newest = { tl, seg: last };
  }
  const archivedAt = newest ? inv.newestArchivedAt.get(newest.tl) : undefined;
  const timeline = newestTimeline(covs);
  const w: RecoverableWindow = {
    ...(timeline !== undefined ? { timeline } : {}),
    ranges: covs.map((c) => ({ backup: c.backup, timeline: c.timeline, from: c.from.toISOString(), to: c.to.toISOString() })),
    gaps: findGaps(inv).map((g) => ({
      timeline: g.timeline,
      from: name(g.timeline, g.from),
      to: name(g.timeline, g.to),
      missing: g.to - g.from + 1,
    })),
    timelines: [...inv.timelines.keys()].sort((a, b) => a - b),
    perTimeline: [...inv.timelines.entries()].sort(([a], [b]) => a - b).map(([tl, segs]) => ({
      timeline: tl,
      segments: segs.length,
      first: name(tl, segs[0]!),
      last: name(tl, segs.at(-1)!),
      history: inv.histories.includes(tl),
    })),
    segments,
    ...(newest ? { newestSegment: name(newest.tl, newest.seg) } : {}),
    ...(archivedAt ? { newestArchivedAt: new Date(archivedAt).toISOString() } : {}),
  };
  // The window is what a restore without --timeline reaches: the newest timeline's ranges.
  const onDefault = covs.filter((c) => c.timeline === timeline);
  if (onDefault.length > 0) {
    w.from = new Date(Math.min(...onDefault.map((c) => c.from.getTime()))).toISOString();
    w.to = new Date(Math.max(...onDefault.map((c) => c.to.getTime()))).toISOString();
  }
  return w;
}

/** "2026-11-24 14:30:00Z → 2026-11-25 09:12:44Z" or a sentence when there is nothing to restore. */
export function describeWindow(w: RecoverableWindow): string {
  if (!w.from || !w.to) return 'no restorable point yet (no complete physical backup)';
  // A fraction is kept (trailing zeros dropped) where targets take one: the planner refuses
  // 44.123 when the window starts at 44.606, so the window it names must say 44.606, not 44.
  // Engines whose targets are whole seconds name whole seconds, as their planner does.
  const f = (s: string) => {
    const t = s.replace('T', ' ');
    return w.wholeSeconds ? t.replace(/\.\d+Z$/, 'Z') : t.replace(/(\.\d*?)0+Z$/, '$1Z').replace(/\.Z$/, 'Z');
  };
  return `${f(w.from)} → ${f(w.to)}`;
}
