import { parseCron } from '../config/cron.js';
import { formatDuration } from '../config/duration.js';
import { JOBS, type JobName, type Policy } from '../config/policy.js';
import type { HealthCheck, HealthStatus } from '../health/status.js';
import { formatBytes } from '../util/bytes.js';
import { servedAt, type Served } from './due.js';

/**
 * Health checks of a policy, pure (src/ops/policy-health.ts gathers the facts for dbdrill health, --prom and the Health screen):
 * - a scheduled job missed: WARN once its first unserved slot is older than the grace, CRIT once
 *   a second slot passed unserved too (tick is not running, or the job keeps failing to start);
 * - retention not met: fewer complete fulls than keep-full asks for (or diffs than keep-diff);
 * - space: WARN when the next full (the size of the last ones) would not fit in the free space
 *   of the repository's filesystem.
 */
export interface PolicyFacts {
  target: string;
  policy: Policy | undefined;
  now: Date;
  served: Partial<Record<JobName, Served>>;
  /** Complete full backups per kind. */
  fulls: { physical: number; logical: number };
  /** Complete differential backups (for keep-diff). */
  diffs?: number;
  /** Typical size of a full (physical, else logical), measured. */
  nextFullBytes?: number;
  freeBytes?: number;
  /** How late a job may start before it counts as missed (tick runs each minute; a busy target waits). */
  graceSeconds?: number;
}

export const DEFAULT_GRACE_SECONDS = 3600;

const fmt = (d: Date) => d.toISOString().replace('T', ' ').replace(/:00\.000Z$/, 'Z');

export function missedJob(job: JobName, expr: string, served: Date | undefined, now: Date, grace: number, since?: Date): HealthCheck | undefined {
  const s = parseCron(expr, job);
  // Never served: the first moment after the schedule was set (a moment before it was never asked for).
  const due = served ? s.next(served) : since ? s.next(since) : s.latest(now);
  if (!due || now.getTime() - due.getTime() <= grace * 1000) return undefined;
  const second = s.next(due);
  const twice = second !== undefined && now.getTime() - second.getTime() > grace * 1000;
  const status: HealthStatus = twice ? 'CRIT' : 'WARN';
  const what = job === 'verify' || job === 'restore-verify' || job === 'drill' ? `${job} is overdue` : `the scheduled ${job} backup was missed`;
  return {
    name: `schedule-${job}`,
    status,
    reason: `${what}: its ${fmt(due)} run${twice ? ' and the next one' : ''} did not happen (${served ? `last served ${fmt(served)}` : 'never run'}; grace ${formatDuration(grace)}); check that dbdrill tick runs every minute and read <repo>/runs/tick.log.`,
  };
}

export function policyChecks(f: PolicyFacts): HealthCheck[] {
  const out: HealthCheck[] = [];
  const grace = f.graceSeconds ?? DEFAULT_GRACE_SECONDS;
  for (const job of JOBS) {
    const expr = f.policy?.schedule?.[job];
    if (!expr) continue;
    const set = f.policy?.since?.[job];
    const c = missedJob(job, expr, servedAt(job, f.served), f.now, grace, set ? new Date(set) : undefined);
    out.push(c ?? { name: `schedule-${job}`, status: 'OK', reason: `${job} runs on schedule (${expr}).` });
  }
  const keep = f.policy?.retention?.keepFull;
  if (keep) {
    const kind = f.policy?.schedule?.full || !f.policy?.schedule?.logical ? 'physical' : 'logical';
    const have = f.fulls[kind];
    out.push(
      have < keep
        ? { name: 'retention', status: 'WARN', reason: `The policy keeps ${keep} ${kind} fulls but the repository holds ${have}: retention is not met yet.` }
        : { name: 'retention', status: 'OK', reason: `${have} complete ${kind} fulls (keep-full ${keep}).` },
    );
  }
  const keepDiff = f.policy?.retention?.keepDiff;
  if (keepDiff && f.diffs !== undefined) {
    out.push(
      f.diffs < keepDiff
        ? { name: 'retention-diff', status: 'WARN', reason: `The policy keeps ${keepDiff} diffs but the repository holds ${f.diffs}: retention is not met yet.` }
        : { name: 'retention-diff', status: 'OK', reason: `${f.diffs} complete diffs (keep-diff ${keepDiff}).` },
    );
  }
  if (f.nextFullBytes !== undefined && f.freeBytes !== undefined) {
    out.push(
      f.nextFullBytes > f.freeBytes
        ? { name: 'repository-space', status: 'WARN', reason: `The next full (about ${formatBytes(f.nextFullBytes)}) would not fit in the ${formatBytes(f.freeBytes)} free on the repository's filesystem; prune, or move the repository.` }
        : { name: 'repository-space', status: 'OK', reason: `${formatBytes(f.freeBytes)} free for a full of about ${formatBytes(f.nextFullBytes)}.` },
    );
  }
  return out;
}
