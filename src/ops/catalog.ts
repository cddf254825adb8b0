import { hostname } from 'node:os';
import { TargetStore } from '../config/store.js';
import type { CatalogRow } from '../engines/contract.js';
import { engineFor } from '../engines/registry.js';
import type { Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { ownerGone, reapInterrupted } from './interrupted.js';

export interface CatalogEntry {
  id: string;
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
  const own = (await engineFor(target)).methodOf(target).ownCatalog;
  const rows: Manifest[] = own ? [...current, ...(await own.list(target))] : current;
  if (own) rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
  return { target: target.name, repo: target.repo, backups: rows.map((m) => entryOf(m, host)), unreadable };
}
