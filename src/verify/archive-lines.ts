/**
 * The two archives as lines for repository-plan.ts, pure: a PostgreSQL WAL archive (one line per
 * timeline; a base backup replays along each timeline path it can follow) and a MySQL/MariaDB
 * binlog archive (one line per base name; a backup replays from its binlog file on).
 */
import type { ArchivedBinlog } from '../binlog/archive.js';
import { binlogFileName, compareBinlogNames, parseBinlogFileName } from '../binlog/names.js';
import { baseMoment } from '../binlog/window.js';
import type { WalInventory } from '../pitr/inventory.js';
import { isPath, timelinePath, type TimelinePath } from '../pitr/timelines.js';
import { segmentName, segmentOfLsn } from '../pitr/wal-names.js';
import type { ArchiveFacts } from '../pitr/window.js';
import type { Manifest } from '../repo/manifest.js';
import { buildLine, type ArchiveLine, type Replay } from './repository-plan.js';

export interface DamagedSegment {
  timeline: number;
  segNo: number;
  reason: string;
}

/** Each timeline's archived segments that passed their check, as runs of consecutive numbers. */
export function intactRuns(timelines: Map<number, number[]>, damaged: DamagedSegment[]): { timeline: number; segNos: number[] }[] {
  const out: { timeline: number; segNos: number[] }[] = [];
  for (const [timeline, segs] of [...timelines].sort(([a], [b]) => a - b)) {
    const bad = new Set(damaged.filter((d) => d.timeline === timeline).map((d) => d.segNo));
    let cur: number[] = [];
    for (const s of segs) {
      if (bad.has(s) || (cur.length > 0 && s !== cur.at(-1)! + 1)) {
        if (cur.length) out.push({ timeline, segNos: cur });
        cur = [];
      }
      if (!bad.has(s)) cur.push(s);
    }
    if (cur.length) out.push({ timeline, segNos: cur });
  }
  return out;
}

/** Physical PostgreSQL backups that start a replay (complete, with a start LSN and a consistent point). */
export function walBases(manifests: Manifest[]): Manifest[] {
  return manifests
    .filter((m) => m.status === 'complete' && m.engine === 'postgres' && m.kind === 'physical' && m.postgres?.startLsn && m.postgres.consistentAt)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** Every timeline path a backup can follow: its own, and each later timeline whose archived history branches from it after its end. */
function pathsOf(m: Manifest, inv: WalInventory, facts: ArchiveFacts): TimelinePath[] {
  const pgm = m.postgres!;
  const timeline = pgm.timeline ?? 1;
  const start = { timeline, startSeg: segmentOfLsn(timeline, pgm.startLsn!, facts.segmentBytes).segNo, endLsn: pgm.stopLsn ?? pgm.startLsn! };
  const out: TimelinePath[] = [];
  for (const tl of [timeline, ...inv.histories.filter((h) => h > timeline)]) {
    const p = timelinePath(start, tl, facts.history(tl), facts.segmentBytes);
    if (isPath(p)) out.push(p);
  }
  return out;
}

/**
 * The WAL archive as lines and the replays of its base backups. `damaged` lists the archived
 * segments whose stored copy failed its check (they are in the inventory, being files).
 */
export function walArchiveLines(inv: WalInventory, damaged: DamagedSegment[], manifests: Manifest[], facts: ArchiveFacts): { lines: ArchiveLine[]; replays: Replay[] } {
  const name = (timeline: number, segNo: number) => segmentName({ timeline, segNo }, facts.segmentBytes);
  const lastOf = (tl: number) => inv.timelines.get(tl)?.at(-1);
  const replays: Replay[] = [];
  const starts = new Map<number, number[]>();
  for (const m of walBases(manifests)) {
    for (const path of pathsOf(m, inv, facts)) {
      const needs: string[] = [];
      for (const leg of path.legs) {
        const to = leg.toSeg ?? lastOf(leg.timeline);
        if (to === undefined || to < leg.fromSeg) break;
        if (needs.length === 0) starts.set(leg.timeline, [...(starts.get(leg.timeline) ?? []), leg.fromSeg]);
        for (let s = leg.fromSeg; s <= to; s++) needs.push(name(leg.timeline, s));
      }
      replays.push({ backup: m.id, timeline: path.timeline, from: m.postgres!.consistentAt!, needs });
    }
  }
  const lines: ArchiveLine[] = [];
  for (const [tl, segs] of [...inv.timelines].sort(([a], [b]) => a - b)) {
    const bad = new Map(damaged.filter((d) => d.timeline === tl).map((d) => [d.segNo, d.reason]));
    const present = new Map(segs.filter((s) => !bad.has(s)).map((s) => [s, name(tl, s)]));
    lines.push(buildLine({ label: `timeline ${tl}`, timeline: tl, present, damaged: bad, expected: starts.get(tl) ?? [], nameOf: (n) => name(tl, n) }));
  }
  return { lines, replays };
}

/**
 * The binlog archive as lines and the replays of the backups that record a binlog position.
 * `files` are the archived ones (with a problem when their check failed); `recorded` are the files
 * the index records as archived that are no longer there (missing, wherever they lie).
 */
export function binlogArchiveLines(files: ArchivedBinlog[], recorded: ArchivedBinlog[], manifests: Manifest[]): { lines: ArchiveLine[]; replays: Replay[] } {
  const byBase = new Map<string, { present: Map<number, string>; damaged: Map<number, string>; expected: number[]; digits: number }>();
  const lineOf = (file: string) => {
    const p = parseBinlogFileName(file)!;
    let l = byBase.get(p.base);
    if (!l) byBase.set(p.base, (l = { present: new Map(), damaged: new Map(), expected: [], digits: file.length - p.base.length - 1 }));
    return { l, seq: p.seq };
  };
  for (const f of files) {
    const { l, seq } = lineOf(f.file);
    l.present.set(seq, f.file);
    if (f.problem !== undefined) l.damaged.set(seq, f.problem);
  }
  for (const f of recorded) lineOf(f.file).l.expected.push(lineOf(f.file).seq);
  const bases = manifests.filter((m) => m.status === 'complete' && m.engine === 'mysql' && m.mysql?.binlogFile !== undefined && m.mysql.binlogPosition !== undefined);
  for (const m of bases) {
    const { l, seq } = lineOf(m.mysql!.binlogFile!);
    const hi = Math.max(-1, ...l.present.keys(), ...l.expected);
    if (seq <= hi) l.expected.push(seq);
  }
  const lines: ArchiveLine[] = [...byBase]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([base, l]) => buildLine({ label: `binlog ${base}`, timeline: 0, present: l.present, damaged: l.damaged, expected: l.expected, nameOf: (n) => binlogFileName(base, n, l.digits) }));
  const replays: Replay[] = bases.map((m) => {
    const start = m.mysql!.binlogFile!;
    const base = parseBinlogFileName(start)!.base;
    const line = lines.find((x) => x.label === `binlog ${base}`);
    const needs = (line?.items ?? []).map((x) => x.key).filter((k) => compareBinlogNames(k, start) >= 0);
    return { backup: m.id, timeline: 0, from: baseMoment(m), needs };
  });
  return { lines, replays };
}
