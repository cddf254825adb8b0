import { parseDuration } from '../config/duration.js';
import { invalid } from '../errors.js';
import { JOBS, validatePolicy, type JobName, type Labeler, type Policy, type Retention } from '../config/policy.js';
import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import { Repository } from '../repo/repository.js';
import { jobStates, type JobState } from '../strategy/due.js';
import { readServed } from './schedule-state.js';

/**
 * Changes to a policy as an operator gives them: a value sets a key, null removes it (the CLI's
 * "off"), a missing key leaves it. rpo/rto live on the target itself (they were there first).
 */
export interface PolicyChanges {
  schedule?: Partial<Record<JobName, string | null>>;
  retention?: Partial<Record<keyof Retention, string | number | null>>;
  timeLimit?: string | null;
  rpo?: string | null;
  rto?: string | null;
}

export function mergePolicy(current: Policy | undefined, c: PolicyChanges, now?: Date): Record<string, unknown> {
  const merge = <T extends object>(base: T | undefined, changes: object | undefined): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...(base ?? {}) };
    for (const [k, v] of Object.entries(changes ?? {})) {
      if (v === null) delete out[k];
      else if (v !== undefined) out[k] = v;
    }
    return out;
  };
  const out: Record<string, unknown> = {};
  const schedule = merge(current?.schedule, c.schedule);
  if (Object.keys(schedule).length) out.schedule = schedule;
  const retention = merge(current?.retention, c.retention);
  if (Object.keys(retention).length) out.retention = retention;
  const timeLimit = c.timeLimit === undefined ? current?.timeLimit : c.timeLimit ?? undefined;
  if (timeLimit) out.timeLimit = timeLimit;
  // A schedule set or changed now is judged by health from now on (see Policy.since).
  const since: Record<string, string> = { ...(current?.since ?? {}) };
  for (const [job, expr] of Object.entries(c.schedule ?? {})) {
    if (expr === null) delete since[job];
    else if (expr !== undefined && expr !== current?.schedule?.[job as JobName]) since[job] = (now ?? new Date()).toISOString();
  }
  if (Object.keys(since).length) out.since = since;
  return out;
}

/**
 * The console's policy form as changes: every field is sent, and a blank one removes its setting
 * (as "off" does on the command line). Keys are `policy set`'s flags without the dashes.
 */
export function changesFromForm(form: Record<JobName | 'keep-full' | 'keep-diff' | 'keep-days' | 'keep-archive' | 'gfs' | 'time-limit', string>): PolicyChanges {
  const value = (v: string) => (v.trim() === '' ? null : v.trim());
  return {
    schedule: Object.fromEntries(JOBS.map((j) => [j, value(form[j])])),
    retention: { keepFull: value(form['keep-full']), keepDiff: value(form['keep-diff']), keepDays: value(form['keep-days']), keepArchive: value(form['keep-archive']), gfs: value(form.gfs) },
    timeLimit: value(form['time-limit']),
  };
}

/**
 * Sets a target's policy: merged with the one it has, checked whole against the target (with
 * `label` naming what the operator typed), then stored with the target.
 */
export function setPolicy(configDir: string, name: string, c: PolicyChanges, label: Labeler): Target {
  const store = new TargetStore(configDir);
  const target = store.get(name);
  const merged = mergePolicy(target.policy, c);
  const policy = validatePolicy(merged, target, label);
  const next: Record<string, unknown> = { ...target };
  delete next.policy;
  if (policy) next.policy = policy;
  for (const key of ['rpo', 'rto'] as const) {
    const v = c[key];
    if (v === null) delete next[key];
    else if (v !== undefined) {
      if (parseDuration(v, `--${key}`) <= 0) throw invalid(`--${key} "${v}" must be longer than zero.`);
      next[key] = v;
    }
  }
  return store.update(name, next);
}

export interface PolicyView {
  target: string;
  policy?: Policy;
  rpo?: string;
  rto?: string;
  jobs: JobState[];
}

export function showPolicy(configDir: string, name: string, now = new Date()): PolicyView {
  const target = new TargetStore(configDir).get(name);
  const manifests = new Repository(target.repo).catalog().manifests;
  return {
    target: target.name,
    ...(target.policy ? { policy: target.policy } : {}),
    ...(target.rpo ? { rpo: target.rpo } : {}),
    ...(target.rto ? { rto: target.rto } : {}),
    jobs: jobStates(target.policy, now, readServed(configDir, target, manifests)),
  };
}
