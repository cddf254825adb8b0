import { parseGfs, type Retention } from '../config/policy.js';
import type { BackupKind, BackupType } from '../repo/manifest.js';
import { gfsPeriods } from './gfs.js';

/**
 * What a retention policy keeps, as a pure function of the catalog and the clock: every backup
 * with the reasons it stays or goes, and where the archive (WAL/binlogs) may start from then.
 *
 * Rules, in the order a reader checks them:
 * - complete backups are kept by keep-full (per kind), keep-diff, keep-days, gfs (per kind),
 *   keep-archive (the base a restore to D days ago starts from) and "the newest verified backup";
 *   an incremental is kept while the backup it builds on is kept;
 * - whatever a kept backup depends on (its `prior` chain) is kept, whatever the rules said;
 * - running backups stay; expiring ones (a prune was interrupted) go;
 * - failed and corrupt ones stay while they are newer than the oldest kept complete backup (the
 *   record of what went wrong, and a corrupt one to inspect), and go once older;
 * - the archive is kept from the oldest kept backup that starts a point-in-time restore.
 */
export interface RetentionItem {
  id: string;
  kind: BackupKind;
  type: BackupType;
  status: 'running' | 'complete' | 'failed' | 'corrupt' | 'expiring' | 'interrupted';
  startedAt: string;
  /** The backup this one builds on (diff/incr). */
  prior?: string;
  /** The newest verification run passed. */
  verified?: boolean;
  /** Earliest moment a point-in-time restore from it reaches; undefined when it cannot start one. */
  pitrFrom?: string;
  /** Where in the archive a restore from it starts reading (comparable with `compareArchive`). */
  archiveFrom?: string;
}

export interface Decision {
  id: string;
  keep: boolean;
  reasons: string[];
}

export interface RetentionPlan {
  /** Newest first, like the catalog. */
  decisions: Decision[];
  /** The archive before this position is no longer needed; undefined: keep the whole archive. */
  archiveFrom?: { position: string; backup: string; reason: string };
  /** Why the archive is left whole, when it is. */
  archiveKept?: string;
}

const DAY = 86_400_000;
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

export function planRetention(
  items: RetentionItem[],
  r: Retention | undefined,
  now: Date,
  compareArchive: (a: string, b: string) => number = (a, b) => a.localeCompare(b),
): RetentionPlan {
  const byId = new Map(items.map((i) => [i.id, i]));
  const sorted = [...items].sort((a, b) => b.id.localeCompare(a.id));
  const reasons = new Map<string, string[]>(sorted.map((i) => [i.id, []]));
  const keep = (i: RetentionItem, why: string) => reasons.get(i.id)!.push(why);
  if (!r) {
    return { decisions: sorted.map((i) => ({ id: i.id, keep: true, reasons: ['the policy has no retention: everything is kept'] })), archiveKept: 'the policy has no retention' };
  }
  const complete = sorted.filter((i) => i.status === 'complete');
  const fulls = (kind: BackupKind) => complete.filter((i) => i.kind === kind && i.type === 'full');
  const kinds: BackupKind[] = ['physical', 'logical'];
  const t = (i: RetentionItem) => Date.parse(i.startedAt);

  for (const i of sorted) if (i.status === 'running') keep(i, 'running');
  if (r.keepFull) {
    for (const kind of kinds) for (const i of fulls(kind).slice(0, r.keepFull)) keep(i, `keep-full ${r.keepFull}: one of the ${r.keepFull} newest ${kind} fulls`);
  }
  if (r.keepDiff) {
    for (const i of complete.filter((x) => x.type === 'diff').slice(0, r.keepDiff)) keep(i, `keep-diff ${r.keepDiff}: one of the ${r.keepDiff} newest diffs`);
  }
  if (r.keepDays) {
    const since = now.getTime() - r.keepDays * DAY;
    for (const i of complete) if (t(i) >= since) keep(i, `keep-days ${r.keepDays}: taken within ${r.keepDays} days`);
    for (const kind of kinds) {
      const base = fulls(kind).find((i) => t(i) < since);
      if (base) keep(base, `keep-days ${r.keepDays}: a ${kind} restore to ${day(since)} starts from it`);
    }
  }
  if (r.gfs) {
    const periods = gfsPeriods(parseGfs(r.gfs, 'gfs'), now);
    for (const kind of kinds) {
      for (const p of periods) {
        const newest = fulls(kind).find((i) => t(i) >= p.start.getTime() && t(i) < p.end.getTime());
        if (newest) keep(newest, `gfs ${r.gfs}: newest ${kind} full of the ${p.label}`);
      }
    }
  }
  if (r.keepArchive) {
    const since = now.getTime() - r.keepArchive * DAY;
    const bases = complete.filter((i) => i.pitrFrom !== undefined);
    const reach = bases.find((i) => Date.parse(i.pitrFrom!) <= since);
    if (reach) keep(reach, `keep-archive ${r.keepArchive}: a restore to ${day(since)} starts from it`);
    else if (bases.length) keep(bases.at(-1)!, `keep-archive ${r.keepArchive}: the archive does not reach back ${r.keepArchive} days yet, and restores to its start need this oldest base`);
  }
  const verified = complete.find((i) => i.verified);
  if (verified) keep(verified, 'the newest verified backup');

  // Incrementals (and diffs when keep-diff does not count them) follow the backup they build on:
  // oldest first, so a chain of incrementals follows its kept full link by link.
  for (const i of [...complete].reverse()) {
    if (i.type === 'full' || (i.type === 'diff' && r.keepDiff) || !i.prior) continue;
    if (reasons.get(i.prior)?.length) keep(i, `builds on kept backup ${i.prior}`);
  }
  // Nothing kept may lose what it is restored from.
  for (const i of sorted) {
    if (!reasons.get(i.id)!.length) continue;
    for (let p = byId.get(i.id)?.prior, child = i.id; p !== undefined; child = p, p = byId.get(p)?.prior) {
      const prior = byId.get(p);
      if (!prior) break;
      const list = reasons.get(p)!;
      if (!list.some((x) => x.startsWith('kept backup '))) list.push(`kept backup ${child} depends on it`);
    }
  }

  const keptComplete = complete.filter((i) => reasons.get(i.id)!.length);
  const oldestKept = keptComplete.at(-1)?.id;
  for (const i of sorted) {
    const list = reasons.get(i.id)!;
    if (i.status === 'failed' || i.status === 'interrupted' || i.status === 'corrupt') {
      if (list.length === 0 && (oldestKept === undefined || i.id > oldestKept)) list.push(oldestKept ? `${i.status}; its record stays while it is newer than the oldest kept backup ${oldestKept}` : `${i.status}; its record stays while no complete backup is kept`);
    }
  }

  const decisions: Decision[] = sorted.map((i) => {
    const list = reasons.get(i.id)!;
    if (list.length) return { id: i.id, keep: true, reasons: list };
    return { id: i.id, keep: false, reasons: [whyItGoes(i, r, oldestKept)] };
  });

  const plan: RetentionPlan = { decisions };
  const starts = sorted.filter((i) => reasons.get(i.id)!.length && i.archiveFrom !== undefined && (i.status === 'complete' || i.status === 'corrupt' || i.status === 'running'));
  if (starts.length === 0) {
    plan.archiveKept = 'no kept backup starts a point-in-time restore, so there is no window start to prune the archive below';
  } else {
    const first = starts.reduce((a, b) => (compareArchive(b.archiveFrom!, a.archiveFrom!) < 0 ? b : a));
    plan.archiveFrom = { position: first.archiveFrom!, backup: first.id, reason: `the oldest kept backup that starts a point-in-time restore, ${first.id}, reads the archive from ${first.archiveFrom}` };
  }
  return plan;
}

function whyItGoes(i: RetentionItem, r: Retention, oldestKept: string | undefined): string {
  if (i.status === 'expiring') return 'expiring: an earlier prune began removing it; this one finishes';
  if (i.status !== 'complete') return `${i.status}, and older than every kept backup${oldestKept ? ` (the oldest is ${oldestKept})` : ''}`;
  const parts: string[] = [];
  if (i.type === 'full' && r.keepFull) parts.push(`keep-full ${r.keepFull} keeps newer ${i.kind} fulls`);
  if (i.type === 'diff' && r.keepDiff) parts.push(`keep-diff ${r.keepDiff} keeps newer diffs`);
  if (i.type !== 'full' && !(i.type === 'diff' && r.keepDiff)) parts.push(i.prior ? `the backup it builds on, ${i.prior}, goes` : 'it builds on no kept backup');
  if (r.keepDays) parts.push(`older than ${r.keepDays} days`);
  if (r.gfs && i.type === 'full') parts.push(`not the newest full of any gfs ${r.gfs} period`);
  return parts.join('; ') || 'no rule keeps it';
}
