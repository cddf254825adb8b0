import { invalid } from '../errors.js';
import { corruptReason, type Manifest } from '../repo/manifest.js';
import { corruptClause, corruptWords, passedOver, skippedNote } from './corrupt.js';
import type { HistoryEntry } from './history.js';
import type { WalInventory } from './inventory.js';
import { isoMicros, microsOf, pgTimestamp, type Micros } from './micros.js';
import type { RestoreTarget } from './time.js';
import { describeSwitches, timelineOfSegment, type Leg, type PathRefusal } from './timelines.js';
import {
  baseBackups, coverageOn, DEFAULT_FACTS, describeWindow, newestTimeline, reachableCoverages,
  type ArchiveFacts, type Coverage, type LastCommit, type RecoverableWindow,
} from './window.js';
import { formatLsn, parseLsn, segmentName, segmentStart, timelineHex } from './wal-names.js';

/**
 * What a restore must prove it reached once recovery ends. `latest` has no target PostgreSQL
 * could miss: recovery ends wherever the WAL it can read ends, so the plan records the last
 * archived segment of its timeline path and the newest commit the window showed. A time, LSN,
 * xid or name target PostgreSQL announces reaching itself ("recovery stopping …").
 */
export type ReplayPromise =
  | {
      kind: 'end-of-archive';
      timeline: number;
      lastSegment: string;
      /** Where lastSegment begins: replay must get at least that far. */
      lastSegmentLsn: string;
      lastCommitAt?: string;
      lastCommitMicros?: Micros;
      lastCommitLsn?: string;
    }
  | { kind: 'target' }
  /** Only the backup's own consistent point (nothing archived after it to replay). */
  | { kind: 'consistent'; lsn: string };

export interface RestorePlan {
  backup: Manifest;
  timeline: number;
  target: RestoreTarget;
  /** The recovery_target_* settings, exactly as they will be written. */
  settings: Record<string, string>;
  /** Archived segments replay will read, first and last, and how many. */
  walFrom: string;
  walTo: string;
  segments: number;
  /** The cluster's WAL segment size in bytes (PostgreSQL; binlog plans have none). */
  segmentBytes?: number;
  /** Which timeline each stretch of segments is read from (PostgreSQL). */
  legs?: Leg[];
  /** Where replay starts: the base backup's start LSN (PostgreSQL; binlog plans have none). */
  startLsn?: string;
  /** Where replay ends at the latest: the --lsn target, else the end of the last segment to replay. */
  endLsn?: string;
  /** What the restore must show it reached (PostgreSQL; binlog plans have none). */
  promise?: ReplayPromise;
  /** Base backup bytes plus archived WAL bytes: what the restore copies. */
  estimatedBytes: number;
  notes: string[];
}

/** A PostgreSQL plan: it always knows its segment size, its timeline path and what it promises. */
export type PgRestorePlan = RestorePlan & Required<Pick<RestorePlan, 'segmentBytes' | 'legs' | 'promise'>>;

export interface PlanOptions {
  backup?: string;
  timeline?: number;
  /** The history of `timeline` (when facts, which knows every timeline's, is not given). */
  timelineHistory?: HistoryEntry[];
  facts?: ArchiveFacts;
}

/** "2026-11-25 09:04:00Z", with the fraction when there is one: a target can be inside a second. */
function fmt(micros: Micros): string {
  return isoMicros(micros).replace('T', ' ').replace(/\.?0*Z$/, 'Z');
}

const fromMicros = (c: Coverage) => microsOf(c.from);
const toMicros = (c: Coverage) => c.lastCommit?.micros ?? microsOf(c.to);

/**
 * Chooses the base backup, the timeline and the WAL to replay, or refuses before anything is
 * written. The rules come from how recovery fails late: a target before the backup's consistent
 * point is unreachable, a target past the archived WAL ends recovery early, a gap stops replay
 * at the gap, a timeline is followed only where its history says it branched.
 */
export function planRestore(
  target: RestoreTarget,
  manifests: Manifest[],
  inv: WalInventory,
  window: RecoverableWindow,
  lastCommit: LastCommit,
  opts: PlanOptions = {},
): PgRestorePlan {
  const facts: ArchiveFacts = opts.facts ?? { ...DEFAULT_FACTS, history: (tl) => (tl === opts.timeline ? opts.timelineHistory : undefined) };
  const segBytes = facts.segmentBytes;
  let bases = baseBackups(manifests);
  let corrupt = baseBackups(manifests, 'corrupt');
  if (opts.backup) {
    bases = bases.filter((m) => m.id === opts.backup);
    corrupt = corrupt.filter((m) => m.id === opts.backup);
    if (corrupt.length > 0) throw invalid(`Backup ${opts.backup} is corrupt (${corruptReason(corrupt[0]!)}); restore from another backup (see dbdrill catalog), or put the damaged file back and run dbdrill verify.`);
    if (bases.length === 0) throw invalid(`Backup ${opts.backup} is not a complete physical backup; point-in-time restore starts from one (see dbdrill catalog).`);
  }
  if (bases.length === 0) {
    if (corrupt.length > 0) throw invalid(`There is no complete physical backup to start from: ${corruptWords(corrupt)}; take a new one with dbdrill backup NAME --kind physical.`);
    throw invalid('There is no complete physical backup to start from; take one with dbdrill backup NAME --kind physical.');
  }
  const reachable = bases.flatMap((m) => reachableCoverages(m, inv, lastCommit, facts));
  if (opts.timeline !== undefined) refuseUnknownTimeline(opts.timeline, inv, bases.map((m) => m.postgres!.timeline ?? 1));
  const timeline = opts.timeline ?? newestTimeline(reachable) ?? bases.at(-1)!.postgres!.timeline ?? 1;
  const covs = opts.timeline === undefined ? reachable.filter((c) => c.timeline === timeline) : coveragesOn(timeline, bases, inv, lastCommit, facts);
  // The window of the timeline planned on (the one `dbdrill window` shows is the default's).
  const win = covs.length === 0 ? describeWindow(window) : describeWindow({
    ...window,
    from: new Date(Math.min(...covs.map((c) => c.from.getTime()))).toISOString(),
    to: new Date(Math.max(...covs.map((c) => c.to.getTime()))).toISOString(),
  });
  const name = (tl: number, segNo: number) => segmentName({ timeline: tl, segNo }, segBytes);
  let chosen: Coverage;
  const settings: Record<string, string> = {};
  const notes: string[] = [];

  switch (target.kind) {
    case 'time': {
      const t = microsOf(target.at, target.usec);
      const before = covs.filter((c) => fromMicros(c) <= t);
      const servedBy = corrupt.filter((m) => new Date(m.postgres!.consistentAt!) <= target.at);
      if (before.length === 0) {
        throw invalid(`${fmt(t)} is before the earliest restorable point (${fmt(fromMicros(covs[0]!))}, when the first backup became consistent)${corruptClause(servedBy)}; the recoverable window is ${win}.`);
      }
      chosen = before.at(-1)!;
      if (toMicros(chosen) < t) {
        // Only a backup that was already consistent at t can reach it.
        const reach = before.filter((c) => toMicros(c) >= t);
        if (reach.length === 0) {
          const endTl = chosen.endTimeline ?? timeline;
          const next = chosen.endSeg === undefined ? undefined : name(endTl, chosen.endSeg + 1);
          const gap = window.gaps.find((g) => g.timeline === endTl && g.from === next);
          const why = chosen.endSeg === undefined
            ? `the archive does not hold WAL from backup ${chosen.backup}'s start (${name(timelineOfSegment(chosen.path.legs, chosen.startSeg), chosen.startSeg)})`
            : gap
              ? `replay would stop at the gap ${gap.from}…${gap.to} in the archive`
              : `the newest archived commit${reachable.some((c) => c.timeline !== timeline) ? ` on timeline ${timeline}` : ''} is at ${fmt(toMicros(chosen))}`;
          const elsewhere = reachable.find((c) => c.timeline !== timeline && fromMicros(c) <= t && toMicros(c) >= t);
          const hint = elsewhere ? `, or --timeline ${elsewhere.timeline}, which reaches it` : '';
          const lost = servedBy.filter((m) => m.id > chosen.backup);
          throw invalid(`${fmt(t)} is past the end of the recoverable window (${win}): ${why}${corruptClause(lost)}; choose an earlier time${hint}, or --to latest to replay everything archived.`);
        }
        chosen = reach.at(-1)!;
      }
      settings.recovery_target_time = pgTimestamp(t);
      settings.recovery_target_inclusive = 'true';
      break;
    }
    case 'lsn': {
      const pos = parseLsn(target.lsn);
      const before = covs.filter((c) => {
        const m = bases.find((b) => b.id === c.backup)!;
        return parseLsn(m.postgres!.stopLsn ?? m.postgres!.startLsn!) <= pos;
      });
      if (before.length === 0) throw invalid(`LSN ${target.lsn} is before the end of every base backup; the recoverable window is ${win}.`);
      chosen = before.at(-1)!;
      if (chosen.endSeg === undefined || segmentStart(chosen.endSeg + 1, segBytes) <= pos) {
        throw invalid(`LSN ${target.lsn} lies beyond the archived WAL after backup ${chosen.backup}; the recoverable window is ${win}.`);
      }
      settings.recovery_target_lsn = target.lsn;
      break;
    }
    case 'xid':
    case 'name': {
      // Where an xid or a restore point lies is not known without reading WAL: start from the
      // oldest backup that replays the longest, and say so.
      chosen = covs.find((c) => c.endSeg !== undefined) ?? covs[0]!;
      if (target.kind === 'xid') settings.recovery_target_xid = target.xid;
      else settings.recovery_target_name = target.name;
      notes.push(`starting from ${chosen.backup}, the oldest backup, since where ${target.kind === 'xid' ? `transaction ${target.xid}` : `restore point "${target.name}"`} lies is known only once replay reaches it`);
      break;
    }
    case 'gtid':
    case 'position':
      throw invalid(`--${target.kind} is a MySQL/MariaDB restore target; PostgreSQL restores take --to TIME|latest, --lsn, --xid or --name.`);
    case 'immediate':
      throw invalid('A PostgreSQL point-in-time restore needs a target: give --to TIME|latest, --lsn, --xid or --name (with --backup ID to choose the base backup).');
    case 'latest':
      chosen = covs.at(-1)!;
      notes.push(`replays every archived segment; the newest archived commit is at ${fmt(toMicros(chosen))}`);
      break;
  }

  const m = bases.find((b) => b.id === chosen.backup)!;
  notes.push(...skippedNote(passedOver(corrupt, m, target), m));
  settings.recovery_target_timeline = String(timeline);
  notes.push(...timelineNotes(chosen, opts.timeline !== undefined, reachable));
  const endSeg = chosen.endSeg ?? chosen.startSeg;
  const endTimeline = chosen.endTimeline ?? timelineOfSegment(chosen.path.legs, endSeg);
  const segments = endSeg - chosen.startSeg + 1;
  const walTo = name(endTimeline, endSeg);
  const promise: ReplayPromise = target.kind !== 'latest'
    ? { kind: 'target' }
    : chosen.endSeg === undefined
      ? { kind: 'consistent', lsn: m.postgres!.stopLsn ?? m.postgres!.startLsn! }
      : {
          kind: 'end-of-archive',
          timeline,
          lastSegment: walTo,
          lastSegmentLsn: formatLsn(segmentStart(endSeg, segBytes)),
          ...(chosen.lastCommit ? { lastCommitAt: chosen.lastCommit.at.toISOString(), lastCommitMicros: chosen.lastCommit.micros } : {}),
          ...(chosen.lastCommit?.lsn ? { lastCommitLsn: chosen.lastCommit.lsn } : {}),
        };
  return {
    backup: m,
    timeline,
    target,
    settings,
    walFrom: name(timelineOfSegment(chosen.path.legs, chosen.startSeg), chosen.startSeg),
    walTo,
    segments,
    segmentBytes: segBytes,
    legs: chosen.path.legs,
    startLsn: m.postgres!.startLsn!,
    endLsn: target.kind === 'lsn' ? target.lsn : formatLsn(segmentStart(endSeg + 1, segBytes)),
    promise,
    estimatedBytes: m.sizeBytes + segments * segBytes,
    notes,
  };
}

/** Coverage of each backup along an explicitly chosen timeline; refuses when none can follow it. */
function coveragesOn(timeline: number, bases: Manifest[], inv: WalInventory, lastCommit: LastCommit, facts: ArchiveFacts): Coverage[] {
  const all = bases.map((m) => ({ m, c: coverageOn(m, timeline, inv, lastCommit, facts) }));
  const ok = all.flatMap(({ c }) => ('path' in c && (c.entered || c.timeline === c.backupTimeline) ? [c] : []));
  if (ok.length > 0) return ok;
  const { m, c } = all.at(-1)!;
  const own = m.postgres!.timeline ?? 1;
  if (!('path' in c)) refuseUnrelatedTimeline(timeline, m.id, own, c);
  const cov = c as Coverage;
  const firstOnTimeline = cov.path.legs.at(-1)!;
  const missing = segmentName({ timeline, segNo: firstOnTimeline.fromSeg }, facts.segmentBytes);
  throw invalid(`Timeline ${timeline} begins at segment ${missing} (${describeSwitches(cov.path)}), and the archive does not reach it from backup ${m.id}; archive that timeline's segments or leave --timeline out.`);
}

/** Which timeline the plan follows and why, when the archive holds more than one. */
function timelineNotes(chosen: Coverage, explicit: boolean, reachable: Coverage[]): string[] {
  const others = [...new Set(reachable.filter((c) => c.backup === chosen.backup && c.timeline !== chosen.timeline).map((c) => c.timeline))];
  if (explicit) {
    return chosen.timeline !== chosen.backupTimeline ? [`following timeline ${chosen.timeline} from the backup's timeline ${chosen.backupTimeline}`, describeSwitches(chosen.path)] : [];
  }
  if (chosen.timeline === chosen.backupTimeline && others.length === 0) return [];
  const why = chosen.timeline !== chosen.backupTimeline
    ? `following timeline ${chosen.timeline}, the newest backup ${chosen.backup} reaches (as PostgreSQL does by default): ${describeSwitches(chosen.path)}`
    : `staying on timeline ${chosen.timeline}, the newest backup ${chosen.backup} reaches`;
  const alt = others.length ? `; --timeline ${others.join(' or ')} restores ${others.length === 1 ? 'that timeline' : 'one of those'} instead` : '';
  return [`${why}${alt}`];
}

function archiveTimelines(inv: WalInventory): string {
  const segs = [...inv.timelines.keys()].sort((a, b) => a - b);
  const parts = [
    segs.length ? `segments of timeline${segs.length > 1 ? 's' : ''} ${segs.join(', ')}` : 'no segments',
    ...(inv.histories.length ? [`history files of ${inv.histories.join(', ')}`] : []),
  ];
  return parts.join(' and ');
}

/** recovery_target_timeline naming a timeline the archive knows nothing of fails only at startup. */
function refuseUnknownTimeline(timeline: number, inv: WalInventory, backupTimelines: number[]): void {
  if (inv.timelines.has(timeline) || inv.histories.includes(timeline) || backupTimelines.includes(timeline)) return;
  throw invalid(`Timeline ${timeline} is not in the archive, which holds ${archiveTimelines(inv)}; give one of those with --timeline, or leave it out to follow the newest timeline the backups reach.`);
}

/** Following another timeline needs its history file, passing through the backup's timeline after the backup ended. */
function refuseUnrelatedTimeline(timeline: number, backup: string, backupTimeline: number, why: PathRefusal): never {
  const file = `wal/${timelineHex(timeline)}.history`;
  switch (why.kind) {
    case 'no-history':
      throw invalid(`Timeline ${timeline} has no history file in the archive (${file}), so recovery cannot follow it from backup ${backup} on timeline ${backupTimeline}; archive that file or leave --timeline out.`);
    case 'unrelated':
      throw invalid(`Timeline ${timeline} did not branch from timeline ${backupTimeline} of backup ${backup} (its history, ${file}, names timeline${why.parents.length === 1 ? '' : 's'} ${why.parents.join(', ') || 'none'}); choose a backup on one of those or another --timeline.`);
    case 'branched-before-end':
      throw invalid(`Timeline ${timeline} branched from timeline ${backupTimeline} at ${why.lsn}, before backup ${backup} ended (${why.backupEnd}), so that backup does not hold its past; choose an older backup with --backup or another --timeline.`);
  }
}
