import { parseCron } from '../config/cron.js';
import { JOBS, type JobName, type Policy } from '../config/policy.js';

/**
 * What a tick at `now` should run, as a pure function of the policy and what was done when. A job
 * is due when its latest scheduled moment (slot) at or before now is later than the last time it
 * was served. However many slots passed while dbdrill was down, the job runs once, for the latest
 * one: catching up never means running N times.
 *
 * "Served" is the newest of: the slot of its last finished run (ok or failed: a failing job waits
 * for its next slot rather than retrying every minute; an interrupted one did not serve its slot),
 * the start of a run of a job that covers it (a full covers diff and incr, a diff covers incr),
 * and the newest artifact already in the repository (a backup, verification or drill taken by hand).
 */
export interface Served {
  /** Slot of the job's last finished run. */
  lastSlot?: Date;
  /** Start of its last successful run (for the jobs it covers). */
  lastStart?: Date;
  /** Newest artifact of this job in the repository. */
  artifact?: Date;
}

export interface DueJob {
  job: JobName;
  slot: Date;
  /** Slots that passed unserved before this one (0 on time; capped at 1000). */
  missedBefore: number;
}

export interface JobState {
  job: JobName;
  schedule: string;
  due: boolean;
  /** The slot a run now would serve (the latest at or before now). */
  slot?: Date;
  servedAt?: Date;
  next?: Date;
  reason: string;
}

/** Which jobs a run of `job` also serves. */
export const COVERS: Partial<Record<JobName, JobName[]>> = { full: ['diff', 'incr'], diff: ['incr'] };

const fmt = (d: Date) => d.toISOString().replace('T', ' ').replace(/:00\.000Z$/, 'Z').replace(/\.\d+Z$/, 'Z');

export function servedAt(job: JobName, served: Partial<Record<JobName, Served>>): Date | undefined {
  const times: Date[] = [];
  const own = served[job];
  if (own?.lastSlot) times.push(own.lastSlot);
  if (own?.artifact) times.push(own.artifact);
  for (const [by, covered] of Object.entries(COVERS) as [JobName, JobName[]][]) {
    if (!covered.includes(job)) continue;
    const s = served[by];
    if (s?.lastStart) times.push(s.lastStart);
    if (s?.artifact) times.push(s.artifact);
  }
  return times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : undefined;
}

/** Every scheduled job's state at `now`, in the order a tick runs them (full first). */
export function jobStates(policy: Policy | undefined, now: Date, served: Partial<Record<JobName, Served>>): JobState[] {
  const out: JobState[] = [];
  for (const job of JOBS) {
    const expr = policy?.schedule?.[job];
    if (!expr) continue;
    const s = parseCron(expr, `policy.schedule.${job}`);
    const slot = s.latest(now);
    const next = s.next(now);
    const at = servedAt(job, served);
    const state: JobState = { job, schedule: expr, due: false, reason: '', ...(slot ? { slot } : {}), ...(at ? { servedAt: at } : {}), ...(next ? { next } : {}) };
    if (!slot) state.reason = `not due: its first run is ${next ? fmt(next) : 'never'}`;
    else if (at && at >= slot) state.reason = `not due: the ${fmt(slot)} run is served (${fmt(at)}); next ${next ? fmt(next) : 'never'}`;
    else {
      state.due = true;
      state.reason = at ? `due: the ${fmt(slot)} run (last served ${fmt(at)})` : `due: the ${fmt(slot)} run (never run before)`;
    }
    out.push(state);
  }
  return out;
}

/** The due jobs, first to run first, with how many slots each missed before its latest. */
export function dueJobs(policy: Policy | undefined, now: Date, served: Partial<Record<JobName, Served>>): DueJob[] {
  return jobStates(policy, now, served)
    .filter((s) => s.due)
    .map((s) => {
      const sched = parseCron(s.schedule, `policy.schedule.${s.job}`);
      const missed = s.servedAt ? sched.between(s.servedAt, new Date(s.slot!.getTime() - 1), 1000).length : 0;
      return { job: s.job, slot: s.slot!, missedBefore: missed };
    });
}
