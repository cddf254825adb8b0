import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../config/duration.js';
import { thresholdsOf } from '../config/health-settings.js';
import { TargetStore } from '../config/store.js';
import { explained } from '../errors.js';
import type { Target } from '../config/target.js';
import { deriveBackupChecks, type BackupFacts } from '../health/backup-checks.js';
import type { BinlogView } from '../health/mysql-derive.js';
import type { PgArchiveView } from '../health/pg-derive.js';
import { assembleReport, type HealthPoint, type HealthReport } from '../health/report.js';
import { continuedSeries, loadSampleHistory, saveSampleHistory, type StoredSeries } from '../health/sample-history.js';
import { QUERY_TIMEOUT_MS } from '../health/sources.js';
import type { HealthCheck } from '../health/status.js';
import { orphanTempCheck } from '../health/orphan-check.js';
import { copiesCheck, sharedDiskOf } from '../health/copies-check.js';
import { copiesView } from '../copies/view.js';
import type { DiskView } from '../health/local-disk.js';
import { orphanTempFiles, type OrphanTemps } from '../wal/orphans.js';
import type { Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import type { EngineHealthSample, EngineHealthSampler } from '../engines/contract.js';
import { engineFor } from '../engines/registry.js';
import { entryOf } from './catalog.js';
import { policyHealth } from './policy-health.js';

export type { HealthCheck, HealthStatus } from '../health/status.js';
export { exitCodeOf } from '../health/status.js';
export type { HealthMetrics, HealthPoint, HealthReport } from '../health/report.js';
export type { ArchiveEvidence, PgArchiveView, RpoEstimate, WalGrowth } from '../health/pg-derive.js';
export type { BinlogEvidence, BinlogView } from '../health/mysql-derive.js';
export type { DiskView } from '../health/local-disk.js';
export type { BackupView } from '../health/backup-checks.js';
export { renderPromTextfile } from '../health/prom.js';

/** Computes a target's recoverable window (src/pitr's by default; tests pass their own). */
export type WindowProvider = (target: Target) => Promise<{ start: string; end: string } | undefined>;

export interface HealthSamplerOptions {
  /** Samples kept for derivation and the console's sparkline (default 120: 2 min at 1/s). */
  historySize?: number;
  /**
   * How long a read of the repository's catalog is reused (default 10 s): manifests change at
   * backup speed, not sample speed, and re-parsing hundreds of them every second would cost more
   * CPU than the whole server sample.
   */
  catalogMaxAgeMs?: number;
  /** A health query that takes longer than this counts as the server not answering. */
  queryTimeoutMs?: number;
  /**
   * Where the recoverable window comes from (reported, and exported as
   * dbdrill_recoverable_window_{start,end}_timestamp_seconds). Default: the window over the
   * repository (PostgreSQL: physical backups and the WAL archive; MySQL/MariaDB: backups with
   * binlog coordinates and the binlog archive). null: skip it.
   */
  window?: WindowProvider | null;
  /**
   * How long a computed window is reused (default 60 s): computing it runs pg_waldump on the
   * archive, which is far too heavy to repeat every second, and the window's ends move only as
   * segments are archived.
   */
  windowMaxAgeMs?: number;
  /** Samples of earlier runs to derive from (oldest first), e.g. loadSampleHistory's. */
  seed?: StoredSeries;
  /** The config directory, where binlog-sync records its runs (MySQL/MariaDB). */
  configDir?: string;
}

/**
 * The recoverable window as dbdrill computes it from the repository (WAL archive and physical
 * backups for PostgreSQL, binlog archive and backups with binlog coordinates for MySQL/MariaDB);
 * undefined when empty.
 */
export const pitrWindow: WindowProvider = async (target) => {
  const window = await (await engineFor(target)).readWindow(target);
  return window.from && window.to ? { start: window.from, end: window.to } : undefined;
};

/** A sampler bound to one target, keeping its connection and history between samples. */
export interface HealthSampler {
  readonly target: Target;
  sample(): Promise<HealthReport>;
  /** The bounded history, oldest first. */
  history(): HealthPoint[];
  /** The samples the verdicts are derived from, oldest first (what checkHealth persists). */
  series(): StoredSeries;
  close(): Promise<void>;
}

export const DEFAULT_HISTORY = 120;

/** Opens a sampler for a configured target (throws one sentence when the target is unknown). */
export function openHealthSampler(configDir: string, name: string, opts: HealthSamplerOptions = {}): HealthSampler {
  return healthSamplerFor(new TargetStore(configDir).get(name), { configDir, ...opts });
}

/** The same for a target held in memory (a sandbox, a drill's scratch instance, tests). */
export function healthSamplerFor(target: Target, opts: HealthSamplerOptions = {}): HealthSampler {
  const size = Math.max(2, opts.historySize ?? DEFAULT_HISTORY);
  const thresholds = thresholdsOf(target.health);
  const rpoSeconds = target.rpo ? parseDuration(target.rpo, 'rpo') : undefined;
  const timeoutMs = opts.queryTimeoutMs ?? QUERY_TIMEOUT_MS;
  // The engine's part (its connection, its history) is loaded with the engine, on the first sample.
  let engineSampler: EngineHealthSampler | undefined;
  let opening: Promise<EngineHealthSampler> | undefined;
  const open = () =>
    (opening ??= engineFor(target)
      .then((e) => e.healthSampler(target, { timeoutMs, size, thresholds, ...(rpoSeconds !== undefined ? { rpoSeconds } : {}), ...(opts.seed ? { seed: opts.seed } : {}), ...(opts.configDir !== undefined ? { configDir: opts.configDir } : {}) }))
      .then((s) => (engineSampler = s)));
  const seeded = (): StoredSeries => continuedSeries(target.engine, opts.seed, size);
  let points: HealthPoint[] = [];
  const catalog = cachedCatalog(target, opts.catalogMaxAgeMs ?? 10_000);
  const policyOf = cachedPolicyChecks(target, opts.configDir, opts.catalogMaxAgeMs ?? 10_000);
  const windowOf = cachedWindow(target, opts.window === undefined ? pitrWindow : opts.window, opts.windowMaxAgeMs ?? 60_000);
  // A readdir of the archive: once a minute is plenty for files that must be 15 minutes old.
  let orphans: { at: number; found: OrphanTemps } | undefined;
  const orphansNow = (now: number): OrphanTemps => {
    if (!orphans || now - orphans.at >= 60_000) orphans = { at: now, found: orphanTempFiles(target.repo, { now }) };
    return orphans.found;
  };

  // 3-2-1 reads the catalog and every copy's record: once a minute follows copies run by the hour.
  let copies: { at: number; check: HealthCheck | undefined } | undefined;
  const copiesNow = (now: number, serverDisk: DiskView | null | undefined): HealthCheck | undefined => {
    if (!target.copies?.length) return undefined;
    if (!copies || now - copies.at >= 60_000) copies = { at: now, check: copiesCheckOf(target, serverDisk) };
    return copies.check;
  };

  return {
    target,
    history: () => [...points],
    series: () => engineSampler?.series() ?? seeded(),
    async sample() {
      const at = new Date();
      const checks: HealthCheck[] = [];
      let server: HealthReport['server'] = { reachable: false };
      let archive: PgArchiveView | undefined;
      let binlog: BinlogView | undefined;
      // Only talking to the server may fail here: an unreachable server is a result, not an
      // error (monitoring must get CRIT, --watch must go on until it is back). A bug in the
      // derivation below still surfaces as one.
      let sampled: { derive(): EngineHealthSample } | undefined;
      try {
        sampled = await (await open()).sample();
      } catch (e) {
        const message = (e as Error).message;
        server = { reachable: false, error: message };
        checks.push({ name: 'server', status: 'CRIT', reason: message });
      }
      if (sampled) {
        const d = sampled.derive();
        server = d.server;
        checks.push(...d.checks);
        archive = d.archive;
        binlog = d.binlog;
      }

      const { view: backup, checks: backupChecks } = deriveBackupChecks({ ...catalog(), serverSystemId: server.systemId, now: at.getTime() }, thresholds);
      checks.push(...backupChecks);
      checks.push(...policyOf(at));

      const window = await windowOf();
      // No wal/ (MySQL targets, nothing archived yet) simply finds none.
      const orphanTemps = orphansNow(at.getTime());
      const orphanCheck = orphanTempCheck(orphanTemps, at.getTime());
      if (orphanCheck) checks.push(orphanCheck);
      const copies321 = copiesNow(at.getTime(), archive?.walDisk ?? binlog?.binlogDisk);
      if (copies321) checks.push(copies321);

      const report = assembleReport(
        {
          target: target.name,
          engine: target.engine,
          at: at.toISOString(),
          orphanTemps: orphanTemps.count,
          checks,
          server,
          ...(archive ? { archive } : {}),
          ...(binlog ? { binlog } : {}),
          backup,
          ...(window ? { window } : {}),
          thresholds,
        },
        points,
      );
      points = report.history.slice(-size);
      report.history = [...points];
      return report;
    },
    async close() {
      if (opening) await (await opening.catch(() => undefined))?.close();
    },
  };
}

/**
 * The 3-2-1 check of a target with copies. The server's data directory is pg_wal's parent (or the
 * binlog directory): the disk whose failure takes the database, compared with the repository's.
 */
function copiesCheckOf(target: Target, serverDisk: DiskView | null | undefined): HealthCheck | undefined {
  try {
    const rule = copiesView(target).rule321;
    const disk = sharedDiskOf(serverDisk, (p) => (basename(p) === 'pg_wal' ? dirname(p) : p), deviceOf(target.repo), deviceOf);
    return copiesCheck(rule, disk, target.repo);
  } catch (e) {
    return { name: '3-2-1', status: 'WARN', reason: `the copies' records cannot be read: ${(explained(e) as Error).message}` };
  }
}

function deviceOf(path: string): number | undefined {
  try {
    return statSync(path).dev;
  } catch {
    return undefined;
  }
}

/** Reads the catalog (and repo.json) at most once per maxAgeMs; a broken repo.json is a check. */
function cachedCatalog(target: Target, maxAgeMs: number): () => Omit<BackupFacts, 'serverSystemId' | 'now'> {
  let cached: { at: number; facts: Omit<BackupFacts, 'serverSystemId' | 'now'> } | undefined;
  return () => {
    const now = Date.now();
    if (cached && now - cached.at < maxAgeMs) return cached.facts;
    const repo = new Repository(target.repo);
    const problems: BackupFacts['unreadable'] = [];
    let manifests: Manifest[] = [];
    try {
      const read = repo.catalog();
      manifests = read.manifests;
      problems.push(...read.unreadable);
    } catch (e) {
      // A file where the repository belongs, or one this user cannot read: a check, not a crash.
      problems.push({ id: 'repository', error: (explained(e) as Error).message });
    }
    const host = hostname();
    let repoInfo: BackupFacts['repoInfo'];
    if (problems.every((p) => p.id !== 'repository')) {
      try {
        const info = repo.info();
        if (info) repoInfo = { engine: info.engine, ...(info.systemId ? { systemId: info.systemId } : {}) };
      } catch (e) {
        problems.push({ id: 'repo.json', error: (e as Error).message });
      }
    }
    const facts = {
      target: target.name,
      repo: target.repo,
      engine: target.engine,
      backups: manifests.map((m) => entryOf(m, host)),
      unreadable: problems,
      ...(repoInfo ? { repoInfo } : {}),
    };
    cached = { at: now, facts };
    return facts;
  };
}

/**
 * The policy's checks (missed jobs, overdue verify/drill, retention, space), read at the catalog's
 * pace: they move at schedule speed. Needs the config directory (drills and runs live there); a
 * target held only in memory (a drill's scratch instance) has no policy to check.
 */
function cachedPolicyChecks(target: Target, configDir: string | undefined, maxAgeMs: number): (at: Date) => HealthCheck[] {
  let cached: { at: number; checks: HealthCheck[] } | undefined;
  return (at) => {
    if (configDir === undefined || !target.policy) return [];
    if (cached && at.getTime() - cached.at < maxAgeMs) return cached.checks;
    let checks: HealthCheck[];
    try {
      checks = policyHealth(configDir, target, at);
    } catch (e) {
      checks = [{ name: 'policy', status: 'WARN', reason: `The policy could not be checked: ${(explained(e) as Error).message}` }];
    }
    cached = { at: at.getTime(), checks };
    return checks;
  };
}

function cachedWindow(target: Target, provider: WindowProvider | null, maxAgeMs: number): () => Promise<{ start: string; end: string } | undefined> {
  let cached: { at: number; window: { start: string; end: string } | undefined } | undefined;
  return async () => {
    if (!provider) return undefined;
    const now = Date.now();
    if (cached && now - cached.at < maxAgeMs) return cached.window;
    let window: { start: string; end: string } | undefined;
    try {
      window = await provider(target);
    } catch {
      // The window is extra information; a failure (no pg_waldump, unreadable archive) must not
      // hide the checks. `dbdrill window NAME` reports the reason.
    }
    cached = { at: now, window };
    return window;
  };
}

/**
 * `dbdrill health NAME` once, as cron or a monitoring agent runs it. One sample cannot show that
 * something *changed* (failed_count rose, the archiver restarted), so the samples of earlier runs
 * are kept in the config directory and derived from together with this one. And when files wait
 * with nothing moved yet and nothing proving a fault — a segment being copied, or a hung
 * archive_command — it samples again every second until progress shows, a fault shows, or the
 * stall reaches archiveStall: at most archiveStall (30 s by default), only while archiving makes
 * no progress, so a run every minute reports CRIT within a minute of the first failure.
 */
export async function checkHealth(
  configDir: string,
  name: string,
  opts: HealthSamplerOptions & { onHistoryError?: (sentence: string) => void } = {},
): Promise<HealthReport> {
  const target = new TargetStore(configDir).get(name);
  const seed = loadSampleHistory(configDir, name, target.engine);
  const sampler = healthSamplerFor(target, { configDir, seed, ...opts });
  try {
    const first = await sampler.sample();
    let report = first;
    const stall0 = first.archive?.stallSeconds ?? 0;
    const deadline = Date.now() + Math.max(0, first.thresholds.archiveStallSeconds - stall0) * 1000 + 2000;
    while (report.archive?.unresolved && report.archive.archivedCount === first.archive!.archivedCount && Date.now() < deadline) {
      await sleep(RESAMPLE_MS);
      report = await sampler.sample();
    }
    const unsaved = saveSampleHistory(configDir, name, sampler.series());
    if (unsaved) opts.onHistoryError?.(unsaved);
    return report;
  } finally {
    await sampler.close();
  }
}

const RESAMPLE_MS = 1000;

/** One sample of a configured target: connects, samples, closes. */
export async function sampleHealth(configDir: string, name: string, opts: HealthSamplerOptions = {}): Promise<HealthReport> {
  const sampler = openHealthSampler(configDir, name, opts);
  try {
    return await sampler.sample();
  } finally {
    await sampler.close();
  }
}

/**
 * Samples every intervalMs until the signal aborts (or the consumer stops iterating), yielding a
 * report per sample; each report carries the bounded history. Samples are paced from their start
 * times, so a slow sample shortens the next wait instead of drifting, and a sampler that falls
 * behind skips ahead rather than bursting.
 *
 *   for await (const report of watchHealth(dir, 'prod', 1000, signal)) render(report);
 */
export async function* watchHealth(
  configDir: string,
  name: string,
  intervalMs: number,
  signal?: AbortSignal,
  opts: HealthSamplerOptions = {},
): AsyncGenerator<HealthReport, void, undefined> {
  yield* watchSampler(openHealthSampler(configDir, name, opts), intervalMs, signal);
}

/** watchHealth over a sampler the caller opened (closed when the iteration ends). */
export async function* watchSampler(sampler: HealthSampler, intervalMs: number, signal?: AbortSignal): AsyncGenerator<HealthReport, void, undefined> {
  try {
    let next = Date.now();
    while (!signal?.aborted) {
      yield await sampler.sample();
      next = Math.max(next + intervalMs, Date.now());
      await sleep(next - Date.now(), undefined, signal ? { signal } : {}).catch(() => undefined);
    }
  } finally {
    await sampler.close();
  }
}
