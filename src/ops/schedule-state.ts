import type { JobName } from '../config/policy.js';
import type { Target } from '../config/target.js';
import type { Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { listRunIds, newestRunPerJob, readRun, writeRun, type RunRecord } from '../repo/runs.js';
import type { Served } from '../strategy/due.js';
import { listDrills } from './drill-history.js';
import { ownerGone } from './interrupted.js';

/**
 * What each job of a target last served, from the run log and the repository's own artifacts, for
 * src/strategy/due.ts. Runs left "running" by a process that is gone are marked interrupted first:
 * they served nothing, so their job is due again.
 */
export function reapRuns(repo: string): RunRecord[] {
  const reaped: RunRecord[] = [];
  for (const { id } of listRunIds(repo)) {
    const r = readRun(repo, id);
    if (!r || r.status !== 'running' || !ownerGone(r.owner)) continue;
    const { owner, ...rest } = r;
    const done: RunRecord = { ...rest, status: 'interrupted', error: `interrupted: the dbdrill process ${owner!.pid} on ${owner!.host} is gone` };
    try {
      writeRun(repo, done);
      reaped.push(done);
    } catch {
      // read-only repository: it stays "running" and is skipped as unfinished anyway
    }
  }
  return reaped;
}

const FINISHED = new Set(['ok', 'failed', 'timeout']);

/** The newest finished run of each job (interrupted and running ones served nothing). */
export function lastFinishedRuns(repo: string): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>();
  for (const { id, job } of listRunIds(repo)) {
    if (out.has(job)) continue;
    const r = readRun(repo, id);
    if (r && FINISHED.has(r.status)) out.set(job, r);
  }
  return out;
}

/** The newest artifact each job leaves in the repository, whoever made it. */
export function newestArtifacts(manifests: Manifest[], drillStarts: string[]): Partial<Record<JobName, Date>> {
  const out: Partial<Record<JobName, Date>> = {};
  const newer = (job: JobName, iso: string | undefined) => {
    if (!iso) return;
    const d = new Date(iso);
    if (!Number.isNaN(d.getTime()) && (!out[job] || d > out[job]!)) out[job] = d;
  };
  for (const m of manifests) {
    if (m.status === 'complete' || m.status === 'corrupt') {
      newer(m.kind === 'logical' ? 'logical' : m.type, m.startedAt);
    }
    for (const v of m.verification ?? []) {
      newer('verify', v.at);
      if (v.method.split('+').includes('restore')) newer('restore-verify', v.at);
    }
  }
  for (const s of drillStarts) newer('drill', s);
  return out;
}

export function readServed(configDir: string, target: Target, manifests = new Repository(target.repo).catalog().manifests): Partial<Record<JobName, Served>> {
  const runs = lastFinishedRuns(target.repo);
  // Only a run that succeeded serves the jobs it covers: a failed full leaves the incr due.
  const ok = newestRunPerJob(target.repo, (r) => r.status === 'ok');
  const artifacts = newestArtifacts(manifests, listDrills(configDir, target.name).map((d) => d.startedAt));
  const out: Partial<Record<JobName, Served>> = {};
  const jobs = new Set<string>([...runs.keys(), ...Object.keys(artifacts)]);
  for (const job of jobs) {
    const r = runs.get(job);
    const s: Served = {};
    if (r?.slot) s.lastSlot = new Date(r.slot);
    const good = ok.get(job);
    if (good) s.lastStart = new Date(good.startedAt);
    const a = artifacts[job as JobName];
    if (a) s.artifact = a;
    out[job as JobName] = s;
  }
  return out;
}
