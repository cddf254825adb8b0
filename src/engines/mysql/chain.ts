import { invalid } from '../../errors.js';
import { corruptReason, type BackupType, type Manifest } from '../../repo/manifest.js';
import { majorMinor } from './dump-args.js';

/**
 * Chains of mariadb-backup backups, as pure functions of the catalog's manifests. A full is a
 * prepared copy of the data directory; a diff holds the pages changed since its full, an incr
 * those changed since the backup it was taken against (its `prior`). Restoring a diff or incr
 * needs every member down to its full, applied oldest first, each starting at the LSN where the
 * one before it ended.
 */

/** The folder inside a member's backup directory that holds mariadb-backup's files (full or delta). */
export const MEMBER_DIR = 'base';

export type ChainType = Exclude<BackupType, 'full'>;

export const TYPE_WORDS: Record<BackupType, string> = { full: 'full', diff: 'differential', incr: 'incremental' };
const A_TYPE: Record<BackupType, string> = { full: 'a full', diff: 'a differential', incr: 'an incremental' };

/** Physical MariaDB backups: the only ones that form chains. */
export function isChainable(m: Manifest): boolean {
  return m.engine === 'mysql' && m.kind === 'physical';
}

/** Why a backup cannot be read as a chain member, finishing "backup X …"; undefined when it can. */
export function unusableWords(m: Manifest): string | undefined {
  // A status written by a later dbdrill (a prune marking it) is as unusable as a failed one.
  const status: string = m.status;
  switch (status) {
    case 'complete':
      return undefined;
    case 'corrupt':
      return `is corrupt (${corruptReason(m)})`;
    case 'failed':
      return `failed${m.error ? ` (${m.error.replace(/\.$/, '')})` : ''}`;
    case 'running':
      return 'has not finished';
    case 'expiring':
      return 'is being pruned';
    default:
      return `is ${status}, not complete`;
  }
}

/** Where a chain cannot be followed: the member named, and the words that say why. */
export interface ChainBreak {
  /** The backup that cannot be read (or is not in the repository). */
  member: string;
  /** "backup B, which A depends on, is corrupt (…)": a clause that fits after "cannot be restored: ". */
  words: string;
}

export type ChainResolution = { ok: true; chain: Manifest[] } | { ok: false; break: ChainBreak };

/** Ids sort by time; a member's prior is always older (a loop or a forward link is damage). */
const byId = (a: Manifest, b: Manifest) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The LSN words when `member` does not start where `prior` ended; undefined when it does or
 * when either side did not record its LSNs (the copied checkpoints files are checked then).
 */
export function lsnGapWords(prior: { id: string; toLsn?: string }, member: { id: string; type: BackupType; fromLsn?: string }): string | undefined {
  if (prior.toLsn === undefined || member.fromLsn === undefined || prior.toLsn === member.fromLsn) return undefined;
  return `${TYPE_WORDS[member.type]} backup ${member.id} starts at LSN ${member.fromLsn}, but backup ${prior.id} it was taken against ends at LSN ${prior.toLsn}, so the two do not link`;
}

/**
 * The chain backup `id` needs, full first ([full], [full, diff], [full, (diff), incr, incr…]),
 * every member complete, each a valid base for the next (a diff on a full; an incr on any), the
 * recorded LSNs continuous. Otherwise the first break, found walking from `id` towards its full.
 */
export function resolveChain(manifests: readonly Manifest[], id: string): ChainResolution {
  const index = new Map(manifests.map((m) => [m.id, m]));
  const tip = index.get(id);
  if (!tip) return { ok: false, break: { member: id, words: `backup ${id} is not in the repository` } };
  if (!isChainable(tip)) return { ok: false, break: { member: id, words: `backup ${id} is not a mariadb-backup backup` } };
  const bad = unusableWords(tip);
  if (bad) return { ok: false, break: { member: id, words: `backup ${id} ${bad}` } };
  const path = [tip];
  let cur = tip;
  while (cur.type !== 'full') {
    const what = `${TYPE_WORDS[cur.type]} backup ${cur.id}`;
    const fail = (member: string, words: string): ChainResolution => ({ ok: false, break: { member, words } });
    if (!cur.prior) return fail(cur.id, `${what} does not name the backup it was taken against (prior)`);
    const prior = index.get(cur.prior);
    if (!prior) return fail(cur.prior, `backup ${cur.prior}, which ${what} depends on, is no longer in the repository (pruned or removed)`);
    if (byId(prior, cur) >= 0) return fail(cur.id, `${what} names ${prior.id} as its base, which is not older than itself`);
    if (!isChainable(prior)) return fail(prior.id, `backup ${prior.id}, which ${what} depends on, is not a mariadb-backup backup`);
    if (cur.type === 'diff' && prior.type !== 'full') return fail(prior.id, `${what} depends on ${TYPE_WORDS[prior.type]} backup ${prior.id}, but a differential backup is taken against a full one`);
    const unusable = unusableWords(prior);
    if (unusable) return fail(prior.id, `backup ${prior.id}, which ${what} depends on, ${unusable}`);
    const gap = lsnGapWords({ id: prior.id, ...pick(prior.mysql?.toLsn, 'toLsn') }, { id: cur.id, type: cur.type, ...pick(cur.mysql?.fromLsn, 'fromLsn') });
    if (gap) return fail(cur.id, gap);
    path.push(prior);
    cur = prior;
  }
  return { ok: true, chain: path.reverse() };
}

function pick<K extends string>(v: string | undefined, key: K): Partial<Record<K, string>> {
  return (v === undefined ? {} : { [key]: v }) as Partial<Record<K, string>>;
}

/** The chain to restore backup `id`, or one sentence naming the member that breaks it. */
export function chainForRestore(manifests: readonly Manifest[], id: string, target: string): Manifest[] {
  const r = resolveChain(manifests, id);
  if (r.ok) return r.chain;
  throw invalid(`Backup ${id} cannot be restored: ${r.break.words}; restore another backup (dbdrill catalog ${target}).`, { backup: id, member: r.break.member });
}

export interface BaseRequest {
  /** The target's name, for the sentences. */
  target: string;
  /** The server's version now: a chain does not continue across release series. */
  serverVersion?: string;
}

/**
 * The backup a new diff or incr is taken against: a diff against the newest full, an incr against
 * the newest backup of the chain (full, diff or incr). Failed, running and pruned backups are not
 * candidates (they hold no usable copy); a corrupt one is, and refuses, because basing on it would
 * give a backup that can never be restored. Throws one sentence when there is no valid base.
 */
export function chainBaseFor(manifests: readonly Manifest[], type: ChainType, req: BaseRequest): Manifest {
  const candidates = manifests.filter((m) => isChainable(m) && (m.status === 'complete' || m.status === 'corrupt')).sort(byId).reverse();
  const words = A_TYPE[type];
  const full = candidates.find((m) => m.type === 'full');
  if (!full) throw invalid(`Target "${req.target}" has no complete full physical backup to take ${words} backup against; take a full backup first.`);
  const base = type === 'diff' ? full : candidates[0]!;
  const r = resolveChain(manifests, base.id);
  if (!r.ok) {
    const diffHint = type === 'incr' && full.status === 'complete' && r.break.member !== full.id && resolveChain(manifests, full.id).ok ? `, or a differential one (against full backup ${full.id})` : '';
    throw invalid(
      `Cannot take ${words} backup of target "${req.target}": ${r.break.words}, and a backup taken against it could never be restored; take a full backup${diffHint}.`,
      { base: base.id, member: r.break.member },
    );
  }
  const root = r.chain[0]!;
  if (req.serverVersion !== undefined && majorMinor(root.serverVersion) !== majorMinor(req.serverVersion)) {
    throw invalid(
      `Cannot take ${words} backup of target "${req.target}": its chain starts at full backup ${root.id} of MariaDB ${root.serverVersion}, the server now runs ${req.serverVersion}, and mariadb-backup does not apply changes across release series; take a full backup.`,
      { base: base.id },
    );
  }
  return base;
}

/** Backups whose chain reads backup `id` (its diffs and incrs, and theirs), oldest first. */
export function dependentsOf(manifests: readonly Manifest[], id: string): Manifest[] {
  const needs = new Set([id]);
  const out: Manifest[] = [];
  for (const m of [...manifests].filter(isChainable).sort(byId)) {
    if (m.prior !== undefined && needs.has(m.prior) && m.id > m.prior) {
      needs.add(m.id);
      out.push(m);
    }
  }
  return out;
}

/**
 * The manifests a restore may start from: every backup but the diffs and incrs whose chain cannot
 * be followed (a member gone, failed, corrupt or not linking), so the window and the planner never
 * count on one. A restore that names such a backup is refused by chainForRestore instead.
 */
export function restorableManifests(manifests: readonly Manifest[]): Manifest[] {
  return manifests.filter((m) => !isChainable(m) || m.type === 'full' || m.status !== 'complete' || resolveChain(manifests, m.id).ok);
}
