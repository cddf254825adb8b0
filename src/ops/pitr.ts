import { join, resolve } from 'node:path';
import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import type { EngineContext } from '../engines/context.js';
import { checkDestination, runRecovery, unpackBaseBackup, writeRecoveryConfig } from '../engines/postgres/pitr-restore.js';
import { lastCommitInSegment } from '../engines/postgres/waldump.js';
import { invalid } from '../errors.js';
import { readInventory, contiguousEnd, type WalInventory } from '../pitr/inventory.js';
import { planRestore, type RestorePlan } from '../pitr/plan.js';
import type { RestoreTarget } from '../pitr/time.js';
import { segmentOfLsn, timelineHex } from '../pitr/wal-names.js';
import { parseHistory, type HistoryEntry } from '../pitr/history.js';
import { baseBackups, computeWindow, type RecoverableWindow } from '../pitr/window.js';
import type { Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { restoreCommand } from '../wal/command.js';
import { walRoot } from '../wal/layout.js';
import { readArchivedFile, withPlainSegments } from '../wal/readable.js';
import { startJob, type Job } from './job.js';
import { readMysqlWindow, runMysqlPitrRestore } from './pitr-mysql.js';

/** How far back pg_waldump looks for a commit when the newest segments hold none (idle server). */
const COMMIT_LOOKBACK = 64;

export interface ArchiveView {
  manifests: Manifest[];
  inventory: WalInventory;
  window: RecoverableWindow;
  lastCommit: (timeline: number, seg: number) => Date | undefined;
  /** A timeline's archived history file, parsed; undefined when it is not archived. */
  history: (timeline: number) => HistoryEntry[] | undefined;
}

/**
 * Everything a window or plan needs, read from the repository. pg_waldump is asked only about the
 * last segment of each backup's gap-free run (walking back through commit-less segments).
 */
export async function readArchive(target: Target): Promise<ArchiveView> {
  if (target.engine !== 'postgres') throw invalid(`The recoverable window of MySQL/MariaDB targets is not built yet; target "${target.name}" is ${target.engine}.`);
  const repo = new Repository(target.repo);
  const { manifests } = repo.catalog();
  const inventory = readInventory(walRoot(target.repo));
  const known = new Map<string, Date | undefined>();
  for (const m of baseBackups(manifests)) {
    const tl = m.postgres!.timeline ?? 1;
    const start = segmentOfLsn(tl, m.postgres!.startLsn!).segNo;
    const end = contiguousEnd(inventory, tl, start);
    if (end === undefined || known.has(`${tl}:${end}`)) continue;
    let found: Date | undefined;
    for (let seg = end; seg >= Math.max(start, end - COMMIT_LOOKBACK) && !found; seg--) {
      // The next segment too: a commit record may continue into it.
      found = (await withPlainSegments(target.repo, tl, [seg, seg + 1], (dir) => lastCommitInSegment(dir, tl, seg, Number(m.serverVersion.split('.')[0]))))?.at;
    }
    known.set(`${tl}:${end}`, found);
  }
  const lastCommit = (tl: number, seg: number) => known.get(`${tl}:${seg}`);
  const history = (tl: number) => readHistory(target.repo, tl);
  return { manifests, inventory, lastCommit, history, window: computeWindow(manifests, inventory, lastCommit) };
}

export async function readWindow(configDir: string, name: string): Promise<RecoverableWindow & { target: string }> {
  const target = new TargetStore(configDir).get(name);
  if (target.engine === 'mysql') return readMysqlWindow(target);
  return { target: target.name, ...(await readArchive(target)).window };
}

export interface PitrRequest {
  target: RestoreTarget;
  into: string;
  port: number;
  backup?: string;
  timeline?: number;
  /** Stop just before the target instead of just after (recovery_target_inclusive = false). */
  exclusive?: boolean;
  /** Only plan: check and describe, write nothing. */
  dryRun?: boolean;
}

export interface PitrReport {
  target: string;
  plan: Omit<RestorePlan, 'backup'> & { backup: string };
  dataDir: string;
  port: number;
  pid?: number;
  logFile?: string;
  /** The moment the restored database represents. */
  reached?: { lastCommitAt?: string; stoppedBeforeXid?: string; stoppedBeforeCommitAt?: string };
  timeline?: number;
  segmentsRestored?: number;
  seconds: number;
  dryRun: boolean;
}

export function planPitr(view: ArchiveView, req: PitrRequest): RestorePlan {
  const timelineHistory = req.timeline !== undefined ? view.history(req.timeline) : undefined;
  const plan = planRestore(req.target, view.manifests, view.inventory, view.window, view.lastCommit, { backup: req.backup, timeline: req.timeline, timelineHistory });
  if (req.exclusive) plan.settings.recovery_target_inclusive = 'false';
  return plan;
}

/** The archived history file of a timeline, parsed, or undefined when it is not archived. */
function readHistory(repo: string, timeline: number): HistoryEntry[] | undefined {
  const data = readArchivedFile(repo, `${timelineHex(timeline)}.history`);
  return data ? parseHistory(data.toString('utf8')) : undefined;
}

export function startPitrRestore(configDir: string, name: string, req: PitrRequest, signal?: AbortSignal): Job<PitrReport> {
  const target = new TargetStore(configDir).get(name);
  if (target.engine === 'mysql') return startJob((ctx) => runMysqlPitrRestore(ctx, target, req), signal);
  return startJob((ctx) => runPitrRestore(ctx, target, req), signal);
}

/**
 * Point-in-time restore into a new directory and port: plan (refusing unsafe targets before
 * anything is written), unpack the base backup, configure recovery, replay archived WAL through
 * wal-fetch, and report the point reached. The source server is never contacted.
 */
export async function runPitrRestore(ctx: EngineContext, target: Target, req: PitrRequest): Promise<PitrReport> {
  const t0 = performance.now();
  const dataDir = resolve(req.into);
  const view = await ctx.step('plan', () => readArchive(target));
  const plan = planPitr(view, req);
  const { backup, ...rest } = plan;
  const planOut = { ...rest, backup: backup.id };
  ctx.emit({ type: 'log', level: 'info', text: `plan: backup ${backup.id}, WAL ${plan.walFrom}…${plan.walTo} (${plan.segments} segment(s)), ${Object.entries(plan.settings).map(([k, v]) => `${k}=${v}`).join(', ')}` });
  for (const n of plan.notes) ctx.emit({ type: 'log', level: 'info', text: n });
  await ctx.step('check destination', () => checkDestination(dataDir, req.port));
  if (req.dryRun) return { target: target.name, plan: planOut, dataDir, port: req.port, seconds: (performance.now() - t0) / 1000, dryRun: true };

  const repo = new Repository(target.repo);
  await ctx.step('unpack base backup', () => unpackBaseBackup(ctx, repo.backupDir(backup.id), dataDir));
  await ctx.step('configure recovery', async () => writeRecoveryConfig(dataDir, backup, plan.settings, restoreCommand(target.repo), req.port));
  const logFile = join(dataDir, 'dbdrill-restore.log');
  const outcome = await ctx.step('replay WAL', () => runRecovery(ctx, dataDir, Number(backup.serverVersion.split('.')[0]), { segments: plan.segments, startLsn: plan.startLsn, endLsn: plan.endLsn }, logFile));
  const s = outcome.state;
  return {
    target: target.name,
    plan: planOut,
    dataDir,
    port: req.port,
    pid: outcome.pid,
    logFile,
    reached: {
      ...(s.lastCommitAt ? { lastCommitAt: s.lastCommitAt.toISOString() } : {}),
      ...(s.stoppedBefore ? { stoppedBeforeXid: s.stoppedBefore.xid, stoppedBeforeCommitAt: s.stoppedBefore.at.toISOString() } : {}),
    },
    ...(s.newTimeline ? { timeline: s.newTimeline } : {}),
    segmentsRestored: s.restored.length,
    seconds: (performance.now() - t0) / 1000,
    dryRun: false,
  };
}
