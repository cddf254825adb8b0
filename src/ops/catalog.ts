import { hostname } from 'node:os';
import { TargetStore } from '../config/store.js';
import type { CatalogRow, EngineArchive } from '../engines/contract.js';
import { engineFor } from '../engines/registry.js';
import type { Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { ownerGone, reapInterrupted } from './interrupted.js';

export interface CatalogEntry {
  id: string;
  /** With copies configured: where it is held, "local ✓ nas ✓ offsite missing" (the console's catalog). */
  held?: string;
  kind: Manifest['kind'];
  type: Manifest['type'];
  /** 'interrupted': marked running, but the process writing it is gone. */
  status: Manifest['status'] | 'interrupted';
  startedAt: string;
  durationSeconds?: number;
  sizeBytes: number;
  /** The newest verification's outcome, if any. */
  verified?: { at: string; ok: boolean; method: string };
  error?: string;
  /** A diff/incr: the backup it was taken against. */
  prior?: string;
  /** Every backup a restore of this one reads, oldest first (a method's own chain: pgBackRest). */
  reference?: string[];
  finishedAt?: string;
  /** WAL from the backup's start to where it is consistent, and its LSNs (PostgreSQL physical). */
  archive?: { start?: string; stop?: string };
  lsn?: { start?: string; stop?: string };
  /** Bytes copied by this backup, and repository bytes of the whole restore and of this backup alone. */
  delta?: number;
  repoSize?: number;
  repoDelta?: number;
  /**
   * A diff or incr: every backup restoring it reads, its full first and itself last, with sizes;
   * `broken` names the first link that cannot be followed (a member gone, failed or corrupt).
   */
  reads?: ChainRead[];
  broken?: string;
  /**
   * The backup starts a point-in-time restore (the engine's archive names where its replay
   * starts): every PostgreSQL physical backup, and MariaDB's too, dumps included.
   */
  pitr?: boolean;
}

export interface ChainRead {
  id: string;
  type: Manifest['type'];
  sizeBytes: number;
  status: Manifest['status'] | 'missing';
}

export function entryOf(m: Manifest, host = hostname()): CatalogEntry {
  let status: CatalogEntry['status'] = m.status;
  if (m.status === 'running' && ownerGone(m.owner, host)) status = 'interrupted';
  // One verify run appends several checks with the same time; the newest run passes only if all did.
  const lastAt = m.verification?.at(-1)?.at;
  const lastRun = (m.verification ?? []).filter((x) => x.at === lastAt);
  const e: CatalogEntry = {
    id: m.id,
    kind: m.kind,
    type: m.type,
    status,
    startedAt: m.startedAt,
    sizeBytes: m.sizeBytes,
  };
  if (m.finishedAt) e.durationSeconds = (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000;
  if (lastAt) e.verified = { at: lastAt, ok: lastRun.every((x) => x.ok), method: lastRun.map((x) => x.method).join('+') };
  if (m.error) e.error = m.error;
  if (m.prior) e.prior = m.prior;
  const row = m as CatalogRow;
  if (row.reference) e.reference = row.reference;
  if (m.finishedAt) e.finishedAt = m.finishedAt;
  const pg = m.kind === 'physical' ? m.postgres : undefined;
  if (pg?.walStart || pg?.walEnd) e.archive = { start: pg.walStart, stop: pg.walEnd };
  if (pg?.startLsn || pg?.stopLsn) e.lsn = { start: pg.startLsn, stop: pg.stopLsn };
  if (row.sizes) Object.assign(e, { delta: row.sizes.delta, repoSize: row.sizes.repoSize, repoDelta: row.sizes.repoDelta });
  return e;
}

/** The catalog's entries of a repository's manifests, each diff and incr with what its restore reads. */
export function entriesOf(manifests: readonly Manifest[], host = hostname()): CatalogEntry[] {
  return manifests.map((m) => {
    const e = entryOf(m, host);
    if (m.type === 'full' || m.prior === undefined) return e;
    const { reads, broken } = chainReads(manifests, m);
    return { ...e, reads, ...(broken ? { broken } : {}) };
  });
}

/**
 * The members a diff or incr's restore reads, followed through the manifests' `prior` links down
 * to the full (any engine: the link is the manifest's, not the tool's). Stops at the first member
 * that is missing or not complete, and says so; the engine's restore checks the LSNs and files.
 */
export function chainReads(manifests: readonly Manifest[], m: Manifest): { reads: ChainRead[]; broken?: string } {
  const byId = new Map(manifests.map((x) => [x.id, x]));
  const reads: ChainRead[] = [];
  let cur: Manifest | undefined = m;
  for (let guard = 0; cur && guard <= manifests.length; guard++) {
    reads.unshift({ id: cur.id, type: cur.type, sizeBytes: cur.sizeBytes, status: cur.status });
    if (cur !== m && cur.status !== 'complete') return { reads, broken: `backup ${cur.id} is ${cur.status}` };
    if (cur.type === 'full') return { reads };
    if (!cur.prior) return { reads, broken: `backup ${cur.id} names no prior backup` };
    const next = byId.get(cur.prior);
    if (!next) {
      reads.unshift({ id: cur.prior, type: cur.type === 'diff' ? 'full' : 'incr', sizeBytes: 0, status: 'missing' });
      return { reads, broken: `backup ${cur.prior} is no longer in the repository` };
    }
    if (next.id >= cur.id) return { reads, broken: `backup ${cur.id} names a prior that is not older than itself` };
    cur = next;
  }
  return { reads, broken: 'the prior links loop' };
}

/**
 * A target's backups, newest first, read from its repository (the catalog is the repository).
 * Backups left running by a dbdrill process that died are marked failed on the way.
 */
export async function readCatalog(configDir: string, name: string): Promise<{ target: string; repo: string; backups: CatalogEntry[]; unreadable: { id: string; error: string }[] }> {
  const target = new TargetStore(configDir).get(name);
  const repo = new Repository(target.repo);
  const { manifests, unreadable } = repo.catalog();
  const host = hostname();
  const current = (await reapInterrupted(repo, manifests, host)).manifests;
  // A method whose tool keeps its own catalog (pgBackRest) lists those backups itself.
  const engine = await engineFor(target);
  const own = engine.methodOf(target).ownCatalog;
  const rows: Manifest[] = own ? [...current, ...(await own.list(target))] : current;
  if (own) rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
  return { target: target.name, repo: target.repo, backups: withPitr(entriesOf(rows, host), rows, await engine.archive()), unreadable };
}

/** Marks the entries (in the order of `rows`) whose backup starts a point-in-time restore. */
export function withPitr(entries: CatalogEntry[], rows: readonly Manifest[], archive: Pick<EngineArchive, 'pitrStart'>): CatalogEntry[] {
  return entries.map((e, i) => (rows[i] && archive.pitrStart(rows[i]) ? { ...e, pitr: true } : e));
}
