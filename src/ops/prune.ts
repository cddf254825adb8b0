import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import { engineFor } from '../engines/registry.js';
import { DbdrillError } from '../errors.js';
import { markExpiring, removeExpiring, sweepExpired } from '../repo/expire.js';
import type { Manifest } from '../repo/manifest.js';
import { startJob, type Job, type JobContext } from './job.js';
import { readRetentionView, type ArchivePlanFile } from './retention-view.js';
import { tryLock } from './target-lock.js';
import { addPruned } from '../copies/prune.js';
import { archiveFiles } from '../copies/source.js';

export interface PruneOptions {
  dryRun?: boolean;
  now?: Date;
  /** The caller (tick) holds the target's lock already. */
  lockHeld?: boolean;
}

export interface PruneBackup {
  id: string;
  kind: Manifest['kind'];
  type: Manifest['type'];
  status: string;
  startedAt: string;
  sizeBytes: number;
  keep: boolean;
  reasons: string[];
}

export interface PruneReport {
  target: string;
  dryRun: boolean;
  retention?: NonNullable<Target['policy']>['retention'];
  backups: PruneBackup[];
  archive: {
    /** The new start of the archive (a WAL position or binlog file), when the policy moves it. */
    from?: string;
    reason: string;
    files: ArchivePlanFile[];
  };
  /** What this run removed (nothing on a dry run). */
  removed: { backups: string[]; archiveFiles: number; bytes: number };
  /** A method that keeps its own catalog (pgBackRest) expires its own sets by the same retention. */
  method?: { tool: string; removed: string[]; wouldRemove?: string[]; unsupported: string[] };
}

export function startPrune(configDir: string, name: string, opts: PruneOptions, signal?: AbortSignal): Job<PruneReport> {
  const target = new TargetStore(configDir).get(name);
  return startJob(async (ctx) => {
    if (opts.dryRun || opts.lockHeld) return runPrune(ctx, target, opts);
    const lock = tryLock(target.repo, 'prune');
    if (!lock.ok) {
      const h = lock.holder;
      throw new DbdrillError('failed', `Target "${name}" is busy${h ? ` with ${h.job} (pid ${h.pid} on ${h.host} since ${h.since})` : ''}; prune again once it has finished.`, { target: name });
    }
    try {
      return await runPrune(ctx, target, opts);
    } finally {
      lock.release();
    }
  }, signal);
}

/**
 * Removes what the target's retention no longer keeps, each item with its reason. The caller
 * holds the target's lock (tick, or startPrune). Crash-safe in this order: every backup that goes
 * is marked expiring first, then their files go one backup at a time (src/repo/expire.ts), and
 * only then the archive below the new window start, oldest file first; a rerun finishes whatever
 * a crash left, because expiring backups are always removed.
 */
export async function runPrune(ctx: JobContext, target: Target, opts: PruneOptions = {}): Promise<PruneReport> {
  const view = await ctx.step('plan', () => readRetentionView(target, opts.now ?? new Date()));
  const byId = new Map(view.manifests.map((m) => [m.id, m]));
  const report: PruneReport = {
    target: target.name,
    dryRun: opts.dryRun === true,
    ...(target.policy?.retention ? { retention: target.policy.retention } : {}),
    backups: view.plan.decisions.map((d) => {
      const m = byId.get(d.id)!;
      return { id: d.id, kind: m.kind, type: m.type, status: m.status, startedAt: m.startedAt, sizeBytes: m.sizeBytes, keep: d.keep, reasons: d.reasons };
    }),
    archive: {
      ...(view.plan.archiveFrom ? { from: view.plan.archiveFrom.position } : {}),
      reason: view.plan.archiveFrom?.reason ?? view.plan.archiveKept ?? '',
      files: view.archive,
    },
    removed: { backups: [], archiveFiles: 0, bytes: 0 },
  };
  if (opts.dryRun) {
    await methodExpire(ctx, target, report, true);
    return report;
  }

  const going = report.backups.filter((b) => !b.keep).reverse();
  if (going.length) {
    await ctx.step('mark expiring', async () => {
      for (const b of going) if (byId.get(b.id)!.status !== 'expiring') markExpiring(view.repo, byId.get(b.id)!);
      // Expiring backups always go (the next prune finishes a crashed one), so the copies may
      // drop them too, at their next copy run (src/copies/prune.ts).
      // With each backup, the first archive file it needs, for copies that keep it longer.
      if (target.copies?.length) addPruned(target.repo, { backups: going.map((b) => b.id), files: [], starts: archiveStarts(going.map((b) => byId.get(b.id)!)) });
    });
    await ctx.step('remove backups', async () => {
      for (const b of going) {
        ctx.signal.throwIfAborted();
        removeExpiring(view.repo, b.id);
        report.removed.backups.push(b.id);
        report.removed.bytes += b.sizeBytes;
        ctx.emit({ type: 'log', level: 'info', text: `removed backup ${b.id}: ${b.reasons.join('; ')}` });
      }
    });
  }
  sweepExpired(view.repo);
  const files = view.archive.filter((f) => !f.keep);
  if (files.length) {
    await ctx.step('remove archive', async () => {
      ctx.signal.throwIfAborted();
      const names = files.map((f) => f.name);
      const before = archiveFiles(target.repo);
      (await (await engineFor(target)).archive()).remove(target.repo, names);
      const after = archiveFiles(target.repo);
      if (target.copies?.length) addPruned(target.repo, { backups: [], files: [...before].filter((f) => !after.has(f)) });
      report.removed.archiveFiles = names.length;
      report.removed.bytes += files.reduce((n, f) => n + f.bytes, 0);
      ctx.emit({ type: 'log', level: 'info', text: `removed ${names.length} archive file(s) ${names[0]}…${names.at(-1)}: ${report.archive.reason}` });
    });
  }
  await methodExpire(ctx, target, report, false);
  return report;
}

/**
 * The sets a method keeps in its own repository (pgBackRest) are expired by that tool, which
 * knows its chains and the WAL they need: dbdrill hands it the policy's retention and reports the
 * sets that are gone (on a dry run the tool lists what it would remove in its own log lines).
 */
async function methodExpire(ctx: JobContext, target: Target, report: PruneReport, dryRun: boolean): Promise<void> {
  const retention = target.policy?.retention;
  const method = (await engineFor(target)).methodOf(target);
  const own = method.ownCatalog;
  if (!retention || !own?.expire) return;
  const before = await own.list(target, ctx.signal);
  const { unsupported, sets } = await own.expire(ctx, target, retention, dryRun);
  for (const u of unsupported) ctx.emit({ type: 'log', level: 'warn', text: u });
  if (dryRun) {
    // Nothing removed: the tool's own dry run says which sets would go.
    report.method = { tool: `${method.name} expire`, removed: [], wouldRemove: sets, unsupported };
    for (const id of sets) ctx.emit({ type: 'log', level: 'info', text: `${method.name} would expire set ${id}` });
    return;
  }
  const after = await own.list(target, ctx.signal);
  const kept = new Set(after.map((b) => b.id));
  const gone = before.filter((b) => !kept.has(b.id));
  report.method = { tool: `${method.name} expire`, removed: gone.map((b) => b.id), unsupported };
  for (const b of gone) {
    report.removed.backups.push(b.id);
    report.removed.bytes += (b as { sizes?: { repoDelta: number } }).sizes?.repoDelta ?? 0;
    ctx.emit({ type: 'log', level: 'info', text: `${method.name} expired set ${b.id}` });
  }
}

/** The first archive file each backup needs: its WAL start segment or its binlog (none for a PostgreSQL dump). */
function archiveStarts(ms: Manifest[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of ms) {
    const start = m.postgres?.walStart ?? m.mysql?.binlogFile;
    if (start) out[m.id] = start;
  }
  return out;
}
