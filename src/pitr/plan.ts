import { invalid } from '../errors.js';
import { corruptReason, type Manifest } from '../repo/manifest.js';
import { corruptClause, corruptWords, passedOver, skippedNote } from './corrupt.js';
import type { WalInventory } from './inventory.js';
import type { RestoreTarget } from './time.js';
import { baseBackups, coverageOf, describeWindow, type RecoverableWindow } from './window.js';
import type { HistoryEntry } from './history.js';
import { DEFAULT_SEGMENT_BYTES, formatLsn, parseLsn, segmentName, timelineHex } from './wal-names.js';

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
  /** Where replay starts: the base backup's start LSN (PostgreSQL; binlog plans have none). */
  startLsn?: string;
  /** Where replay ends at the latest: the --lsn target, else the end of the last segment to replay. */
  endLsn?: string;
  /** Base backup bytes plus archived WAL bytes: what the restore copies. */
  estimatedBytes: number;
  notes: string[];
}

const fmt = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/**
 * Chooses the base backup and the WAL to replay, or refuses before anything is written. The rules
 * come from how recovery fails late: a target before the backup's consistent point is unreachable,
 * a target past the archived WAL ends recovery early, a gap stops replay at the gap.
 */
export function planRestore(
  target: RestoreTarget,
  manifests: Manifest[],
  inv: WalInventory,
  window: RecoverableWindow,
  lastCommit: (timeline: number, seg: number) => Date | undefined,
  opts: { backup?: string; timeline?: number; timelineHistory?: HistoryEntry[] } = {},
): RestorePlan {
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
  const covs = bases.map((m) => ({ m, c: coverageOf(m, inv, lastCommit) }));
  const win = describeWindow(window);
  if (opts.timeline !== undefined) refuseUnknownTimeline(opts.timeline, inv, covs.map((x) => x.c.timeline));
  let chosen: (typeof covs)[number];
  const settings: Record<string, string> = {};
  const notes: string[] = [];

  switch (target.kind) {
    case 'time': {
      const t = target.at;
      const before = covs.filter((x) => x.c.from <= t);
      const servedBy = corrupt.filter((m) => new Date(m.postgres!.consistentAt!) <= t);
      if (before.length === 0) {
        throw invalid(`${fmt(t)} is before the earliest restorable point (${fmt(covs[0]!.c.from)}, when the first backup became consistent)${corruptClause(servedBy)}; the recoverable window is ${win}.`);
      }
      chosen = before.at(-1)!;
      if (chosen.c.to < t) {
        // Only a backup that was already consistent at t can reach it.
        const reach = before.filter((x) => x.c.to >= t);
        if (reach.length === 0) {
          const next = chosen.c.endSeg === undefined ? undefined : segmentName({ timeline: chosen.c.timeline, segNo: chosen.c.endSeg + 1 });
          const gap = window.gaps.find((g) => g.timeline === chosen.c.timeline && g.from === next);
          const why = chosen.c.endSeg === undefined
            ? `the archive does not hold WAL from backup ${chosen.m.id}'s start (${segmentName({ timeline: chosen.c.timeline, segNo: chosen.c.startSeg })})`
            : gap
              ? `replay would stop at the gap ${gap.from}…${gap.to} in the archive`
              : `the newest archived commit is at ${fmt(chosen.c.to)}`;
          const lost = servedBy.filter((m) => m.id > chosen.m.id);
          throw invalid(`${fmt(t)} is past the end of the recoverable window (${win}): ${why}${corruptClause(lost)}; choose an earlier time, or --to latest to replay everything archived.`);
        }
        chosen = reach.at(-1)!;
      }
      // A numeric offset, not "Z": the setting's check cannot resolve zone abbreviations.
      settings.recovery_target_time = t.toISOString().replace('T', ' ').replace('Z', '+00');
      settings.recovery_target_inclusive = 'true';
      break;
    }
    case 'lsn': {
      const pos = parseLsn(target.lsn);
      const before = covs.filter((x) => parseLsn(x.m.postgres!.stopLsn ?? x.m.postgres!.startLsn!) <= pos);
      if (before.length === 0) throw invalid(`LSN ${target.lsn} is before the end of every base backup; the recoverable window is ${win}.`);
      chosen = before.at(-1)!;
      if (chosen.c.endSeg === undefined || BigInt(chosen.c.endSeg + 1) * BigInt(DEFAULT_SEGMENT_BYTES) <= pos) {
        throw invalid(`LSN ${target.lsn} lies beyond the archived WAL after backup ${chosen.m.id}; the recoverable window is ${win}.`);
      }
      settings.recovery_target_lsn = target.lsn;
      break;
    }
    case 'xid':
    case 'name': {
      // Where an xid or a restore point lies is not known without reading WAL: start from the
      // oldest backup that replays the longest, and say so.
      chosen = covs.find((x) => x.c.endSeg !== undefined) ?? covs[0]!;
      if (target.kind === 'xid') settings.recovery_target_xid = target.xid;
      else settings.recovery_target_name = target.name;
      notes.push(`starting from ${chosen.m.id}, the oldest backup, since where ${target.kind === 'xid' ? `transaction ${target.xid}` : `restore point "${target.name}"`} lies is known only once replay reaches it`);
      break;
    }
    case 'gtid':
    case 'position':
      throw invalid(`--${target.kind} is a MySQL/MariaDB restore target; PostgreSQL restores take --to TIME|latest, --lsn, --xid or --name.`);
    case 'immediate':
      throw invalid('A PostgreSQL point-in-time restore needs a target: give --to TIME|latest, --lsn, --xid or --name (with --backup ID to choose the base backup).');
    case 'latest':
      chosen = covs.at(-1)!;
      notes.push(`replays every archived segment; the newest archived commit is at ${fmt(chosen.c.to)}`);
      break;
  }

  notes.push(...skippedNote(passedOver(corrupt, chosen.m, target), chosen.m));
  const timeline = opts.timeline ?? chosen.c.timeline;
  if (timeline !== chosen.c.timeline) refuseUnrelatedTimeline(timeline, chosen.m.id, chosen.c.timeline, opts.timelineHistory);
  settings.recovery_target_timeline = String(timeline);
  if (timeline !== chosen.c.timeline) notes.push(`following timeline ${timeline} from the backup's timeline ${chosen.c.timeline}`);
  const endSeg = chosen.c.endSeg ?? chosen.c.startSeg;
  const segments = endSeg - chosen.c.startSeg + 1;
  return {
    backup: chosen.m,
    timeline,
    target,
    settings,
    walFrom: segmentName({ timeline: chosen.c.timeline, segNo: chosen.c.startSeg }),
    walTo: segmentName({ timeline: chosen.c.timeline, segNo: endSeg }),
    segments,
    startLsn: chosen.m.postgres!.startLsn!,
    endLsn: target.kind === 'lsn' ? target.lsn : formatLsn(BigInt(endSeg + 1) * BigInt(DEFAULT_SEGMENT_BYTES)),
    estimatedBytes: chosen.m.sizeBytes + segments * DEFAULT_SEGMENT_BYTES,
    notes,
  };
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
  throw invalid(`Timeline ${timeline} is not in the archive, which holds ${archiveTimelines(inv)}; give one of those with --timeline, or leave it out to follow the backup's timeline.`);
}

/** Following another timeline needs its history file, and that history must pass through the backup's timeline. */
function refuseUnrelatedTimeline(timeline: number, backup: string, backupTimeline: number, history: HistoryEntry[] | undefined): void {
  const file = `wal/${timelineHex(timeline)}.history`;
  if (!history) {
    throw invalid(`Timeline ${timeline} has no history file in the archive (${file}), so recovery cannot follow it from backup ${backup} on timeline ${backupTimeline}; archive that file or leave --timeline out.`);
  }
  if (!history.some((h) => h.parent === backupTimeline)) {
    throw invalid(`Timeline ${timeline} did not branch from timeline ${backupTimeline} of backup ${backup} (its history, ${file}, names timeline${history.length === 1 ? '' : 's'} ${history.map((h) => h.parent).join(', ') || 'none'}); choose a backup on one of those or another --timeline.`);
  }
}
