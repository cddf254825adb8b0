import { invalid } from '../errors.js';
import type { RestoreTarget } from '../pitr/time.js';
import { describeWindow, type RecoverableWindow } from '../pitr/window.js';
import { corruptWords, skippedNote } from '../pitr/corrupt.js';
import { corruptReason, type Manifest } from '../repo/manifest.js';
import type { ArchivedBinlog, BinlogInventory } from './archive.js';
import { stopSecond } from './decoded.js';
import type { ResolvedStop } from './locate.js';
import { binlogFileName, compareBinlogNames, contiguousFrom, parseBinlogFileName } from './names.js';
import type { ExpectedEnd } from './simulate.js';

/**
 * The recoverable window and restore plans of a MySQL/MariaDB target, as pure functions of its
 * backups and its binlog archive. A point-in-time restore starts from a backup whose binlog file
 * and position the manifest records — a logical backup (a dump taken in one snapshot) or a
 * physical one (mariadb-backup's files, consistent at that position) — and replays the archived
 * binlogs from that position. So a backup covers:
 *
 *   from  logical: its startedAt. The dump's snapshot is opened moments after startedAt (the time
 *         it takes to connect and pause commits), and replay can only move forward from that
 *         snapshot, so no earlier moment can be restored from this backup. startedAt is the bound
 *         the catalog records; it can be early by that sub-second moment, never late.
 *         physical: its consistentAt (the end of the copy, after the tool read the position while
 *         commits were blocked), or finishedAt for manifests without it: late, never early.
 *   to    the last event of the newest archived binlog reachable from the backup's binlog file
 *         without a gap (files are numbered: a missing number is a gap). A closed binlog ends with
 *         its Rotate event, so this is when the server closed that file: every change up to then is
 *         in the archive. When the backup's own binlog file is not archived, to = from.
 *
 * Binlogs carry no timelines: ranges and gaps report timeline 0, and `segments` counts files.
 */

export interface MysqlCoverage {
  backup: Manifest;
  from: Date;
  to: Date;
  startFile: string;
  startPosition: number;
  /** Archived files a replay from the backup's position reads without crossing a gap. */
  chain: ArchivedBinlog[];
}

const fmt = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/** Complete MySQL/MariaDB backups (logical or physical) that record a binlog position, by the moment they restore to (never a corrupt one). */
export function mysqlBases(manifests: Manifest[], status: 'complete' | 'corrupt' = 'complete'): Manifest[] {
  return manifests
    .filter((m) => m.status === status && m.engine === 'mysql' && m.mysql?.binlogFile !== undefined && m.mysql.binlogPosition !== undefined)
    .sort((a, b) => Date.parse(baseMoment(a)) - Date.parse(baseMoment(b)) || a.id.localeCompare(b.id));
}

/** The earliest moment a restore from this backup can reach (see the head of this file). */
export function baseMoment(m: Manifest): string {
  return m.kind === 'physical' ? (m.mysql?.consistentAt ?? m.finishedAt ?? m.startedAt) : m.startedAt;
}

export function coverageOf(m: Manifest, files: ArchivedBinlog[]): MysqlCoverage {
  const from = new Date(baseMoment(m));
  const usable = files.filter((f) => f.problem === undefined);
  const byName = new Map(usable.map((f) => [f.file, f]));
  const chain = contiguousFrom(usable.map((f) => f.file), m.mysql!.binlogFile!).map((n) => byName.get(n)!);
  let to = from;
  const last = chain.at(-1)?.lastEventAt;
  if (last && Date.parse(last) > from.getTime()) to = new Date(last);
  return { backup: m, from, to, startFile: m.mysql!.binlogFile!, startPosition: m.mysql!.binlogPosition!, chain };
}

export function computeMysqlWindow(manifests: Manifest[], inv: Pick<BinlogInventory, 'files' | 'gaps'>): RecoverableWindow {
  const covs = mysqlBases(manifests).map((m) => coverageOf(m, inv.files));
  const newest = inv.files.at(-1);
  const w: RecoverableWindow = {
    ranges: covs.map((c) => ({ backup: c.backup.id, timeline: 0, from: c.from.toISOString(), to: c.to.toISOString() })),
    gaps: inv.gaps.map((g) => ({ timeline: 0, from: g.from, to: g.to, missing: g.missing })),
    timelines: [],
    segments: inv.files.length,
    ...(newest ? { newestSegment: newest.file } : {}),
    ...(newest?.archivedAt ? { newestArchivedAt: newest.archivedAt } : {}),
    wholeSeconds: true,
  };
  if (covs.length > 0) {
    w.from = new Date(Math.min(...covs.map((c) => c.from.getTime()))).toISOString();
    w.to = new Date(Math.max(...covs.map((c) => c.to.getTime()))).toISOString();
  }
  return w;
}

/** "2026-11-24 14:30:00Z → 2026-11-25 09:12:44Z", or a sentence when nothing can be restored. */
export function describeMysqlWindow(w: RecoverableWindow): string {
  if (!w.from || !w.to) return 'no restorable point yet (no complete backup with binlog coordinates)';
  return describeWindow(w);
}

export interface MysqlRestorePlan {
  backup: Manifest;
  /**
   * The source's schema. A logical backup's dump is loaded into it and the binlog replay is
   * limited to it; a physical backup restores every schema (and replays them all), and this is
   * the one whose tables the report lists.
   */
  schema: string;
  target: RestoreTarget;
  startFile: string;
  startPosition: number;
  /** Archived files to replay, in order; empty when the backup's own moment is the target. */
  files: ArchivedBinlog[];
  /** --stop-datetime: replay stops at the first event of this second or later (time targets). */
  stopAt?: Date;
  /** --stop-position in the last file: replay stops before the event there (GTID and position targets). */
  stopPosition?: number;
  /** The dump's bytes plus the binlog bytes replay reads (and every member a diff/incr's chain reads). */
  estimatedBytes: number;
  /** A diff or incr: every backup the restore reads, its full first, with the bytes of each. */
  chain?: { id: string; type: Manifest['type']; bytes: number }[];
  notes: string[];
  /**
   * --to latest only: replay cannot reach the newest binlog the archive holds or recorded (a
   * damaged or lost file, a gap), why, and which file that newest one is.
   */
  shortfall?: { reason: string; promised: { file: string; lastEventAt?: string } };
  /** Where the replay must end, worked out from the binlogs themselves (src/binlog/expect.ts). */
  expected?: ExpectedEnd;
  /** Time targets: the transactions --second decides about (stamped in the target's second). */
  ambiguousSecond?: AmbiguousSecond;
}

/** What `--second inclusive` replays and `--second exclusive` leaves out. */
export interface AmbiguousSecond {
  second: string;
  transactions: { gtid: string; at: string; statement: string }[];
  /** Transactions beyond those listed. */
  more?: number;
}

export type SecondChoice = 'inclusive' | 'exclusive';

/**
 * Chooses the backup and the binlogs to replay, or refuses before anything is written: a target
 * before every backup's start is unreachable, one past the archive (or beyond a gap) would end
 * replay early.
 */
export function planMysqlRestore(
  target: RestoreTarget,
  manifests: Manifest[],
  inv: Pick<BinlogInventory, 'files' | 'gaps'> & Partial<Pick<BinlogInventory, 'missing'>>,
  window: RecoverableWindow,
  opts: { backup?: string; schema?: string; stop?: ResolvedStop; second?: SecondChoice } = {},
): MysqlRestorePlan {
  if (target.kind === 'immediate') return planOwnMoment(target, manifests, opts);
  let bases = mysqlBases(manifests);
  let corrupt = mysqlBases(manifests, 'corrupt');
  if (opts.backup) {
    bases = bases.filter((m) => m.id === opts.backup);
    corrupt = corrupt.filter((m) => m.id === opts.backup);
    if (corrupt.length > 0) throw invalid(`Backup ${opts.backup} is corrupt (${corruptReason(corrupt[0]!)}); restore from another backup (see dbdrill catalog), or put the damaged file back and run dbdrill verify.`);
    if (bases.length === 0) {
      throw invalid(`Backup ${opts.backup} is not a complete backup with binlog coordinates; a point-in-time restore of MySQL/MariaDB starts from one (see dbdrill catalog).`);
    }
  }
  if (bases.length === 0) {
    if (corrupt.length > 0) throw invalid(`There is no complete backup with binlog coordinates to start from: ${corruptWords(corrupt)}; take a new one with dbdrill backup NAME.`);
    throw invalid('There is no complete backup with binlog coordinates to start from; take one with dbdrill backup NAME --kind logical (or physical) while the server writes binary logs (log_bin=ON).');
  }
  const covs = bases.map((m) => coverageOf(m, inv.files));
  const win = describeMysqlWindow(window);
  const notes: string[] = [];
  let chosen: MysqlCoverage;
  let files: ArchivedBinlog[];
  let stopAt: Date | undefined;
  let stopPosition: number | undefined;
  let shortfall: MysqlRestorePlan['shortfall'];

  switch (target.kind) {
    case 'time': {
      const t = target.at;
      const before = covs.filter((c) => c.from <= t);
      if (before.length === 0) {
        throw invalid(`${fmt(t)} is before the earliest restorable point (${fmt(covs[0]!.from)}, ${covs[0]!.backup.kind === 'physical' ? 'when the first backup was consistent' : 'when the first backup started'}); the recoverable window is ${win}.`);
      }
      chosen = before.at(-1)!;
      if (chosen.to < t) {
        const reach = before.filter((c) => c.to >= t);
        if (reach.length === 0) throw invalid(`${fmt(t)} is past the end of the recoverable window (${win}): ${whyShort(chosen, inv)}; choose an earlier time, or --to latest to replay everything archived.`);
        chosen = reach.at(-1)!;
      }
      const second = stopSecond(t);
      // --second inclusive: every event of the target's second too, so stop before the next one.
      stopAt = opts.second === 'inclusive' ? new Date(second.getTime() + 1000) : second;
      const stop = stopAt.getTime();
      if (opts.second === 'inclusive' && chosen.to.getTime() < stop) {
        throw invalid(`--second inclusive asks for every transaction stamped ${fmt(second)}, but the archive ends within that second (its newest event is at ${fmt(chosen.to)}), so some of them may not be archived yet; archive them (dbdrill binlog-sync --rotate) or give --second exclusive.`);
      }
      // Up to the first file holding an event at or after the stop second: replay stops in it.
      const end = chosen.chain.findIndex((f) => f.lastEventAt !== undefined && Date.parse(f.lastEventAt) >= stop);
      files = end < 0 ? chosen.chain : chosen.chain.slice(0, end + 1);
      if (opts.second === 'inclusive') notes.push(`--second inclusive: replays every transaction stamped ${fmt(second)} and stops before ${fmt(stopAt)}`);
      else if (opts.second === 'exclusive') notes.push(`--second exclusive: leaves out every transaction stamped ${fmt(second)}`);
      else if (t.getTime() !== stop) notes.push(`binlog events carry whole seconds: replay stops before ${fmt(stopAt)}, so changes made earlier within that second are left out`);
      break;
    }
    case 'latest': {
      chosen = covs.at(-1)!;
      files = chosen.chain;
      const promised = newestRecorded(inv, chosen.startFile);
      if (promised && files.at(-1)?.file !== promised.file) {
        shortfall = { reason: breakAfter(chosen, inv), promised: { file: promised.file, ...(promised.lastEventAt ? { lastEventAt: promised.lastEventAt } : {}) } };
      }
      notes.push(files.length > 0 ? `replays every archived binlog after the backup; the newest archived event is at ${fmt(chosen.to)}` : `no archived binlog follows the backup's position (${chosen.startFile}:${chosen.startPosition}); the restore holds the backup's own moment`);
      break;
    }
    case 'gtid':
    case 'position': {
      const stop = opts.stop;
      if (!stop) throw new Error(`a --${target.kind} target must be located in the archive before it is planned`);
      const what = target.kind === 'gtid' ? `GTID ${target.gtid} (ending at ${stop.file}:${stop.position})` : `${stop.file}:${stop.position}`;
      const byPosition = [...covs].sort((a, b) => compareBinlogNames(a.startFile, b.startFile) || a.startPosition - b.startPosition);
      const after = byPosition.filter((c) => compareBinlogNames(stop.file, c.startFile) > 0 || (stop.file === c.startFile && stop.position >= c.startPosition));
      if (after.length === 0) {
        const first = byPosition[0]!;
        throw invalid(`${what} is before the binlog position of every backup (the earliest is ${first.startFile}:${first.startPosition}, backup ${first.backup.id}); the recoverable window is ${win}.`);
      }
      const reach = after.filter((c) => c.chain.some((f) => f.file === stop.file) || (c.startFile === stop.file && c.startPosition === stop.position));
      if (reach.length === 0) {
        throw invalid(`${what} is past the end of the recoverable window (${win}): ${whyShort(after.at(-1)!, inv)}; choose an earlier one, or --to latest to replay everything archived.`);
      }
      chosen = reach.at(-1)!;
      const end = chosen.chain.findIndex((f) => f.file === stop.file);
      files = end < 0 || (stop.file === chosen.startFile && stop.position === chosen.startPosition) ? [] : chosen.chain.slice(0, end + 1);
      stopPosition = stop.position;
      notes.push(
        target.kind === 'gtid'
          ? `stops after transaction ${target.gtid}, which ends at ${stop.file}:${stop.position}${stop.at ? ` (logged ${fmt(new Date(stop.at))})` : ''}`
          : `stops before the event at ${stop.file}:${stop.position}`,
      );
      break;
    }
    default:
      throw invalid(`MySQL/MariaDB restores take --to TIME|latest, --gtid G or --position FILE:POS (or --backup ID alone); --${target.kind} is a PostgreSQL recovery target.`);
  }
  // Corrupt backups the rule above would have preferred (for a time target or latest).
  const at = target.kind === 'time' ? target.at.getTime() : target.kind === 'latest' ? Infinity : -Infinity;
  notes.push(...skippedNote(corrupt.filter((m) => Date.parse(baseMoment(m)) > chosen.from.getTime() && Date.parse(baseMoment(m)) <= at), chosen.backup));
  const last = files.length - 1;
  const bytes = files.reduce((n, f, i) => {
    const upTo = i === last && stopPosition !== undefined ? Math.min(f.size, stopPosition) : f.size;
    return n + (i === 0 && f.file === chosen.startFile ? Math.max(0, upTo - chosen.startPosition) : upTo);
  }, 0);
  return {
    backup: chosen.backup,
    schema: opts.schema ?? chosen.backup.database ?? '',
    target,
    startFile: chosen.startFile,
    startPosition: chosen.startPosition,
    files,
    ...(stopAt ? { stopAt } : {}),
    ...(stopPosition !== undefined && files.length > 0 ? { stopPosition } : {}),
    estimatedBytes: chosen.backup.sizeBytes + bytes,
    notes,
    ...(shortfall ? { shortfall } : {}),
  };
}

type InventoryView = Pick<BinlogInventory, 'files' | 'gaps' | 'missing'>;

/** The newest binlog of the start file's series that the archive holds or its index recorded. */
function newestRecorded(inv: InventoryView, startFile: string): ArchivedBinlog | undefined {
  const s = parseBinlogFileName(startFile);
  if (!s) return undefined;
  return [...inv.files, ...(inv.missing ?? [])]
    .filter((f) => {
      const p = parseBinlogFileName(f.file);
      return p !== undefined && p.base === s.base && p.seq >= s.seq;
    })
    .sort((a, b) => compareBinlogNames(a.file, b.file))
    .at(-1);
}

/** What stops a replay from the backup at the end of its gap-free run: the next file's fault. */
function breakAfter(c: MysqlCoverage, inv: InventoryView): string {
  const from = c.chain.at(-1)?.file;
  const p = parseBinlogFileName(from ?? c.startFile)!;
  const name = from === undefined ? c.startFile : binlogFileName(p.base, p.seq + 1, (from ?? c.startFile).length - p.base.length - 1);
  if (inv.missing?.some((f) => f.file === name)) return `${name} is recorded in the binlog index but missing from the archive`;
  const bad = inv.files.find((f) => f.file === name && f.problem !== undefined);
  if (bad) return `the archived ${name} is damaged (${bad.problem})`;
  const gap = inv.gaps.find((g) => g.from === name);
  return gap && gap.missing > 1 ? `${gap.from}…${gap.to} are missing from the binlog archive` : `${name} is missing from the binlog archive`;
}

/**
 * restore --backup ID alone: that backup as it was taken, nothing replayed. It needs no binlog
 * coordinates (a server without binary logs has backups too).
 */
function planOwnMoment(target: RestoreTarget, manifests: Manifest[], opts: { backup?: string; schema?: string }): MysqlRestorePlan {
  const complete = manifests.filter((m) => m.status === 'complete' && m.engine === 'mysql').sort((a, b) => a.id.localeCompare(b.id));
  const m = opts.backup ? complete.find((x) => x.id === opts.backup) : complete.at(-1);
  const bad = manifests.find((x) => x.id === opts.backup && x.status === 'corrupt');
  if (bad) throw invalid(`Backup ${bad.id} is corrupt (${corruptReason(bad)}); restore another backup (see dbdrill catalog), or put the damaged file back and run dbdrill verify.`);
  if (!m) {
    throw invalid(opts.backup ? `Backup ${opts.backup} is not a complete backup of this target; list them with dbdrill catalog.` : 'There is no complete backup to restore; take one with dbdrill backup NAME.');
  }
  const at = m.mysql?.binlogFile !== undefined ? ` (binlog ${m.mysql.binlogFile}:${m.mysql.binlogPosition})` : '';
  return {
    backup: m,
    schema: opts.schema ?? m.database ?? '',
    target,
    startFile: m.mysql?.binlogFile ?? '',
    startPosition: m.mysql?.binlogPosition ?? 0,
    files: [],
    estimatedBytes: m.sizeBytes,
    notes: [`restores backup ${m.id} as it was taken${at}; no binlog is replayed (give --to to move forward from it)`],
  };
}

/** Why the replay from a backup ends where it does. */
function whyShort(c: MysqlCoverage, inv: Pick<BinlogInventory, 'files' | 'gaps'>): string {
  if (c.chain.length === 0) {
    const bad = inv.files.find((f) => f.file === c.startFile && f.problem !== undefined);
    return bad
      ? `the archived ${c.startFile}, where backup ${c.backup.id}'s position lies, is damaged (${bad.problem})`
      : `the archive does not hold ${c.startFile}, where backup ${c.backup.id}'s position lies (archive it with dbdrill binlog-sync)`;
  }
  const last = c.chain.at(-1)!;
  const p = parseBinlogFileName(last.file);
  const gap = p ? inv.gaps.find((g) => parseBinlogFileName(g.from)?.base === p.base && parseBinlogFileName(g.from)?.seq === p.seq + 1) : undefined;
  if (gap) return `replay would stop at the gap ${gap.from}…${gap.to} in the binlog archive`;
  const bad = p ? inv.files.find((f) => f.problem !== undefined && parseBinlogFileName(f.file)?.base === p.base && parseBinlogFileName(f.file)?.seq === p.seq + 1) : undefined;
  if (bad) return `replay would stop at the damaged archived ${bad.file} (${bad.problem})`;
  return `the newest archived binlog event is at ${fmt(c.to)} (dbdrill binlog-sync --rotate archives what the server wrote since)`;
}
