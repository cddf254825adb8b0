import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { BackupOwner } from './manifest.js';

/**
 * The run log of scheduled jobs: <repo>/runs/<id>.json, one per job `dbdrill tick` ran (what, for
 * which scheduled moment, when, how it ended), beside the backups it describes so any host reads
 * the same history. Ids sort by time and name the job: 20261124T143000Z-full(-2).json.
 */
export type RunStatus = 'running' | 'ok' | 'failed' | 'interrupted' | 'timeout';

export interface RunRecord {
  formatVersion: 1;
  id: string;
  target: string;
  /** A policy job (full, diff, incr, logical, verify, restore-verify, drill) or prune. */
  job: string;
  /** The scheduled moment this run serves (a cron slot); absent for prune. */
  slot?: string;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  /** The process running it, while it runs: a running record whose owner is gone was interrupted. */
  owner?: BackupOwner;
  /** What it produced: a backup id, a verification outcome, a drill id and verdict, what prune removed. */
  result?: Record<string, unknown>;
  error?: string;
}

const RUN_RE = /^(\d{8}T\d{6}Z)-([a-z]+(?:-[a-z]+)*)(?:-(\d+))?\.json$/;

export function runsDir(repo: string): string {
  return join(repo, 'runs');
}

function stampOf(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Claims a fresh run id (O_EXCL on its file, so two runs in one second get -2, -3). */
export function claimRunId(repo: string, job: string, at: Date): string {
  const dir = runsDir(repo);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let n = 1; n < 1000; n++) {
    const id = `${stampOf(at)}-${job}${n > 1 ? `-${n}` : ''}`;
    try {
      closeSync(openSync(join(dir, `${id}.json`), 'wx', 0o600));
      return id;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error(`no free run id in ${dir}`);
}

export function writeRun(repo: string, r: RunRecord): void {
  writeFileAtomic(join(runsDir(repo), `${r.id}.json`), `${JSON.stringify(r, null, 2)}\n`);
}

export function readRun(repo: string, id: string): RunRecord | undefined {
  try {
    const v = JSON.parse(readFileSync(join(runsDir(repo), `${id}.json`), 'utf8')) as RunRecord;
    return v && v.formatVersion === 1 && typeof v.job === 'string' && typeof v.status === 'string' ? v : undefined;
  } catch {
    // Claimed but not written yet (a run starting right now), or damaged: not a record.
    return undefined;
  }
}

/** Run ids, newest first (a -2 of the same second is newer than the plain one). */
export function listRunIds(repo: string): { id: string; job: string; at: string }[] {
  let names: string[];
  try {
    names = readdirSync(runsDir(repo));
  } catch {
    return [];
  }
  const out: { id: string; job: string; at: string; key: string }[] = [];
  for (const n of names) {
    const m = RUN_RE.exec(n);
    if (m) out.push({ id: n.slice(0, -5), job: m[2]!, at: m[1]!, key: `${m[1]}${(m[3] ?? '1').padStart(4, '0')}` });
  }
  out.sort((a, b) => b.key.localeCompare(a.key));
  return out.map(({ id, job, at }) => ({ id, job, at }));
}

/** Every readable run record, newest first; `limit` stops early. */
export function listRuns(repo: string, limit = Infinity): RunRecord[] {
  const out: RunRecord[] = [];
  for (const { id } of listRunIds(repo)) {
    if (out.length >= limit) break;
    const r = readRun(repo, id);
    if (r) out.push(r);
  }
  return out;
}

/** The newest record of each job (reading only as far back as needed). */
export function newestRunPerJob(repo: string, filter: (r: RunRecord) => boolean = () => true): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>();
  for (const { id, job } of listRunIds(repo)) {
    if (out.has(job)) continue;
    const r = readRun(repo, id);
    if (r && filter(r)) out.set(job, r);
  }
  return out;
}

/** Removes records older than `days`, always keeping the newest `keepPerJob` of each job. */
export function trimRuns(repo: string, now: Date, days = 90, keepPerJob = 10): number {
  const cutoff = stampOf(new Date(now.getTime() - days * 86_400_000));
  const seen = new Map<string, number>();
  let removed = 0;
  for (const { id, job, at } of listRunIds(repo)) {
    const n = (seen.get(job) ?? 0) + 1;
    seen.set(job, n);
    if (n > keepPerJob && at < cutoff) {
      rmSync(join(runsDir(repo), `${id}.json`), { force: true });
      removed++;
    }
  }
  return removed;
}
