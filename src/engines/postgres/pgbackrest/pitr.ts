import { resolve } from 'node:path';
import type { Target } from '../../../config/target.js';
import { invalid } from '../../../errors.js';
import { planRestore } from '../../../pitr/plan.js';
import { replayCheckOf } from '../../../pitr/reached.js';
import type { EngineContext } from '../../context.js';
import type { PitrReport, PitrRequest } from '../../restore-types.js';
import { checkDestination, replayedReport, stopShortRecovery } from '../pitr-restore.js';
import { pgbackrestOf } from './method.js';
import { pgbackrestPitrRestore } from './restore.js';
import { readPgbackrestArchive } from './window.js';

/**
 * `dbdrill restore NAME --to …` on a pgBackRest target: dbdrill's planner picks the set (the
 * newest one consistent before the target) from pgBackRest's catalog and archive and refuses what
 * native restores refuse; pgBackRest restores that set with --set and the recovery target, and
 * dbdrill follows the replay and proves the point reached as for native restores.
 */
export async function runPgbackrestPitr(ctx: EngineContext, target: Target, req: PitrRequest): Promise<PitrReport> {
  const t0 = performance.now();
  const dataDir = resolve(req.into);
  // --from COPY: the copy's pgBackRest repository, fetched and given a conf of its own (fromCopy).
  const pb = await pgbackrestOf(req.repo !== undefined ? { ...target, repo: req.repo } : target);
  const view = await ctx.step('plan', () => readPgbackrestArchive(pb, target.name, { signal: ctx.signal }));
  const plan = planRestore(req.target, view.manifests, view.inventory, view.window, view.lastCommit, { backup: req.backup, timeline: req.timeline, timelineHistory: req.timeline ? view.history(req.timeline) : undefined });
  if (req.exclusive) plan.settings.recovery_target_inclusive = 'false';
  const { backup, ...rest } = plan;
  const planOut = { ...rest, archive: 'wal' as const, backup: backup.id };
  ctx.emit({ type: 'log', level: 'info', text: `plan: pgBackRest set ${backup.id}, WAL ${plan.walFrom}…${plan.walTo} (${plan.segments} segment(s)), ${Object.entries(plan.settings).map(([k, v]) => `${k}=${v}`).join(', ')}` });
  for (const n of plan.notes) ctx.emit({ type: 'log', level: 'info', text: n });
  if (req.dryRun) {
    await ctx.step('check destination', () => checkDestination(dataDir, req.port, { repo: target.repo }));
    return { target: target.name, plan: planOut, dataDir, port: req.port, seconds: (performance.now() - t0) / 1000, dryRun: true };
  }
  const serverMajor = Number(backup.serverVersion.split('.')[0]);
  const outcome = await pgbackrestPitrRestore(ctx, pb, {
    set: backup.id,
    target: req.target,
    timeline: plan.timeline,
    ...(req.exclusive ? { exclusive: true } : {}),
    dataDir,
    port: req.port,
    ...(view.streamTail ? { streamTail: view.streamTail } : {}),
    targetName: target.name,
    repo: target.repo,
    serverMajor,
    expect: { segments: plan.segments, startLsn: plan.startLsn, endLsn: plan.endLsn, check: replayCheckOf(plan) },
  });
  const proven = await ctx.step('check the point reached', () => stopShortRecovery(outcome, dataDir));
  ctx.emit({ type: 'log', level: 'info', text: proven });
  return {
    target: target.name,
    plan: planOut,
    dataDir,
    port: req.port,
    logFile: resolve(dataDir, 'dbdrill-restore.log'),
    ...replayedReport(outcome, proven),
    seconds: (performance.now() - t0) / 1000,
    dryRun: false,
  };
}
