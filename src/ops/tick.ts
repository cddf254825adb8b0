import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TargetStore } from '../config/store.js';
import { timeLimitOf } from '../config/policy.js';
import type { Target } from '../config/target.js';
import { listRunIds, readRun, runsDir, trimRuns, type RunRecord } from '../repo/runs.js';
import { isPidAlive } from '../runner/process.js';
import { spawnDaemon } from '../runner/daemon.js';
import { dueJobs, jobStates, type JobState } from '../strategy/due.js';
import { cliEntry } from '../wal/command.js';
import type { JobEvent } from './job.js';
import { lastFinishedRuns, readServed, reapRuns } from './schedule-state.js';
import { runScheduledJob } from './scheduled-job.js';
import { lockHolder, tryLock, type LockHolder } from './target-lock.js';

/**
 * `dbdrill tick`, run every minute by cron or a systemd timer. The tick itself only decides and
 * starts: for each target with something due it starts one detached child (`tick --run NAME`)
 * that takes the target's lock, runs the due jobs one after another, then prunes, and logs every
 * run to <repo>/runs/. So a tick returns in about a second whatever the jobs cost:
 * - a systemd timer does not start its service again while the previous one is still active,
 *   so a tick that waited for a three-hour full would hold every other target's schedule back;
 * - a slow or hanging target holds only its own child (and that child has a time limit);
 * - a crash or OOM of one target's job takes no other target's job with it.
 * `--wait` waits for the children and reports their runs (for a person at a terminal, and tests).
 */
export interface TickTarget {
  target: string;
  /** started: a child runs its jobs; busy: a run holds its lock; idle: nothing due; error: see error. */
  action: 'started' | 'busy' | 'idle' | 'error';
  jobs: JobState[];
  prune: { due: boolean; reason: string };
  pid?: number;
  holder?: LockHolder;
  /** With --wait: the runs the child recorded. */
  runs?: RunRecord[];
  error?: string;
}

export interface TickReport {
  at: string;
  targets: TickTarget[];
}

const PRUNE_EVERY_MS = 86_400_000;
const LOG_FILE = 'tick.log';
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

function pruneDue(target: Target, ranJobs: boolean, now: Date): { due: boolean; reason: string } {
  if (!target.policy?.retention) return { due: false, reason: 'no retention in the policy' };
  if (ranJobs) return { due: true, reason: 'after the jobs of this tick' };
  const last = lastFinishedRuns(target.repo).get('prune');
  if (!last) return { due: true, reason: 'never pruned by tick' };
  const age = now.getTime() - Date.parse(last.startedAt);
  return age >= PRUNE_EVERY_MS ? { due: true, reason: 'the last prune was more than a day ago' } : { due: false, reason: `pruned at ${last.startedAt}; next after the next job or a day later` };
}

/** The tick: which targets have something due, and a child started for each of those. */
export async function runTick(configDir: string, opts: { wait?: boolean; now?: Date } = {}): Promise<TickReport> {
  const now = opts.now ?? new Date();
  // A config that does not read or validate stops the tick with its one sentence (exit 2): running
  // some targets' jobs from a half-understood file would be worse than running none.
  const targets = new TargetStore(configDir).list().filter((t) => t.policy);
  const report: TickReport = { at: now.toISOString(), targets: [] };
  const children: { entry: TickTarget; target: Target; before: Set<string> }[] = [];
  for (const target of targets) {
    const entry: TickTarget = { target: target.name, action: 'idle', jobs: [], prune: { due: false, reason: '' } };
    report.targets.push(entry);
    try {
      reapRuns(target.repo);
      entry.jobs = jobStates(target.policy, now, readServed(configDir, target));
      entry.prune = pruneDue(target, entry.jobs.some((j) => j.due), now);
      const holder = lockHolder(target.repo);
      if (holder) {
        entry.action = 'busy';
        entry.holder = holder;
        continue;
      }
      if (!entry.jobs.some((j) => j.due) && !entry.prune.due) continue;
      const before = new Set(listRunIds(target.repo).map((r) => r.id));
      entry.pid = startChild(configDir, target);
      entry.action = 'started';
      children.push({ entry, target, before });
    } catch (e) {
      entry.action = 'error';
      entry.error = (e as Error).message;
    }
  }
  if (opts.wait) {
    for (const c of children) {
      while (c.entry.pid !== undefined && isPidAlive(c.entry.pid)) await new Promise((r) => setTimeout(r, 200));
      c.entry.runs = listRunIds(c.target.repo)
        .filter((r) => !c.before.has(r.id))
        .map((r) => readRun(c.target.repo, r.id))
        .filter((r): r is RunRecord => r !== undefined)
        .reverse();
    }
  }
  return report;
}

function startChild(configDir: string, target: Target): number {
  mkdirSync(runsDir(target.repo), { recursive: true, mode: 0o700 });
  const log = join(runsDir(target.repo), LOG_FILE);
  try {
    if (statSync(log).size > LOG_ROTATE_BYTES) renameSync(log, `${log}.1`);
  } catch {
    // no log yet
  }
  return spawnDaemon({ tool: process.execPath, args: [cliEntry(), 'tick', '--run', target.name, '--config', configDir], logFile: log });
}

/**
 * The child: under the target's lock, runs what is due now (re-read: another tick may have run it
 * meanwhile), one job at a time, full first, then prunes. Returns the runs it recorded; a lock
 * another live run holds makes it return none.
 */
export async function runTargetTick(configDir: string, name: string, onEvent?: (line: string, e?: JobEvent) => void): Promise<{ busy?: LockHolder; runs: RunRecord[] }> {
  const target = new TargetStore(configDir).get(name);
  const lock = tryLock(target.repo, 'tick');
  if (!lock.ok) return { ...(lock.holder ? { busy: lock.holder } : {}), runs: [] };
  const runs: RunRecord[] = [];
  try {
    reapRuns(target.repo);
    const limitSeconds = timeLimitOf(target.policy);
    const tried = new Set<string>();
    for (;;) {
      const next = dueJobs(target.policy, new Date(), readServed(configDir, target)).find((d) => !tried.has(d.job));
      if (!next) break;
      tried.add(next.job);
      onEvent?.(`${new Date().toISOString()} ${name}: ${next.job} for the ${next.slot.toISOString()} run${next.missedBefore ? ` (${next.missedBefore} earlier run(s) missed: caught up once)` : ''}`);
      const r = await runScheduledJob(configDir, target, next.job, next.slot, { limitSeconds, onEvent: (e) => onEvent?.('', e) });
      onEvent?.(`${new Date().toISOString()} ${name}: ${next.job} ${r.status}${r.error ? `: ${r.error}` : ''}`);
      runs.push(r);
    }
    if (pruneDue(target, runs.length > 0, new Date()).due) {
      const r = await runScheduledJob(configDir, target, 'prune', undefined, { limitSeconds, onEvent: (e) => onEvent?.('', e) });
      onEvent?.(`${new Date().toISOString()} ${name}: prune ${r.status}${r.error ? `: ${r.error}` : ''}`);
      runs.push(r);
    }
    trimRuns(target.repo, new Date());
  } finally {
    lock.release();
  }
  return { runs };
}
