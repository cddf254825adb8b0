import type { JobName, Policy } from '../config/policy.js';
import { TargetStore } from '../config/store.js';
import { explained } from '../errors.js';
import { listRuns, type RunStatus } from '../repo/runs.js';
import { weekOf, type WeekDay } from '../strategy/week.js';
import { showPolicy } from './policy.js';
import { startPrune } from './prune.js';

/**
 * What the console's Strategy screen shows of one target, read in one go: the policy, each job's
 * state, the week ahead, the last runs and what the next prune would remove (a dry run of the
 * same planner prune uses). The forecast is read separately (strategyPlan): it asks the server
 * and may take seconds. A part that cannot be read is a sentence in its place, not a failure of
 * the whole view.
 */
export interface StrategyView {
  target: string;
  policy?: Policy;
  rpo?: string;
  rto?: string;
  jobs: { job: JobName; schedule: string; due: boolean; servedAt?: string; next?: string; reason: string }[];
  week: WeekDay[];
  runs: { id: string; job: string; status: RunStatus; startedAt: string; finishedAt?: string; error?: string }[];
  prune: PrunePreview | { error: string };
}

export interface PrunePreview {
  /** Backups the next prune would remove, oldest first, each with why. */
  backups: { id: string; startedAt: string; sizeBytes: number; reasons: string[] }[];
  archive: { files: number; bytes: number; from?: string; reason: string };
  /** Backups it keeps. */
  kept: number;
}

const RUNS_SHOWN = 10;

export async function readStrategyView(configDir: string, name: string, now = new Date()): Promise<StrategyView> {
  const target = new TargetStore(configDir).get(name);
  const shown = showPolicy(configDir, name, now);
  const iso = (d: Date | undefined) => (d ? { at: d.toISOString() } : undefined);
  let prune: StrategyView['prune'];
  try {
    const r = await startPrune(configDir, name, { dryRun: true, now }).result;
    const going = r.archive.files.filter((f) => !f.keep);
    prune = {
      backups: r.backups
        .filter((b) => !b.keep)
        .reverse()
        .map((b) => ({ id: b.id, startedAt: b.startedAt, sizeBytes: b.sizeBytes, reasons: b.reasons })),
      archive: { files: going.length, bytes: going.reduce((n, f) => n + f.bytes, 0), ...(r.archive.from ? { from: r.archive.from } : {}), reason: r.archive.reason },
      kept: r.backups.filter((b) => b.keep).length,
    };
  } catch (e) {
    prune = { error: (explained(e) as Error).message };
  }
  return {
    target: target.name,
    ...(target.policy ? { policy: target.policy } : {}),
    ...(target.rpo ? { rpo: target.rpo } : {}),
    ...(target.rto ? { rto: target.rto } : {}),
    jobs: shown.jobs.map((j) => ({
      job: j.job,
      schedule: j.schedule,
      due: j.due,
      ...(iso(j.servedAt) ? { servedAt: iso(j.servedAt)!.at } : {}),
      ...(iso(j.next) ? { next: iso(j.next)!.at } : {}),
      reason: j.reason,
    })),
    week: weekOf(target.policy, now),
    runs: listRuns(target.repo, RUNS_SHOWN).map((r) => ({
      id: r.id,
      job: r.job,
      status: r.status,
      startedAt: r.startedAt,
      ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
      ...(r.error ? { error: r.error } : {}),
    })),
    prune,
  };
}
