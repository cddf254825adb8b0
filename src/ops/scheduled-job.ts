import { formatDuration } from '../config/duration.js';
import type { JobName } from '../config/policy.js';
import type { Target } from '../config/target.js';
import { claimRunId, writeRun, type RunRecord } from '../repo/runs.js';
import { startBackup } from './backup.js';
import { startDrill } from './drill.js';
import { thisProcessOwner } from './interrupted.js';
import type { Job, JobEvent } from './job.js';
import { startPrune } from './prune.js';
import { startVerify } from './verify.js';
import { startVerifyRepository } from './verify-repository.js';

/**
 * Runs one scheduled job through the public ops (startBackup, startVerify, startDrill) and records
 * it in the run log: "running" with this process as owner before it starts, then ok, failed or
 * timeout with what it produced. A job still running after `limitSeconds` is cancelled (its
 * tools get SIGINT, SIGTERM, SIGKILL) and recorded as timeout.
 */
export type ScheduledJob = JobName | 'prune';

export async function runScheduledJob(
  configDir: string,
  target: Target,
  job: ScheduledJob,
  slot: Date | undefined,
  opts: { limitSeconds: number; onEvent?: (e: JobEvent) => void; signal?: AbortSignal },
): Promise<RunRecord> {
  const startedAt = new Date();
  const id = claimRunId(target.repo, job, startedAt);
  let record: RunRecord = {
    formatVersion: 1,
    id,
    target: target.name,
    job,
    ...(slot ? { slot: slot.toISOString() } : {}),
    status: 'running',
    startedAt: startedAt.toISOString(),
    owner: thisProcessOwner(),
  };
  writeRun(target.repo, record);

  const limit = new AbortController();
  const timer = setTimeout(() => limit.abort(`time limit ${formatDuration(opts.limitSeconds)} reached`), opts.limitSeconds * 1000);
  timer.unref();
  const signal = opts.signal ? AbortSignal.any([opts.signal, limit.signal]) : limit.signal;
  const { owner: _owner, ...base } = record;
  try {
    const { result, ok } = await start(configDir, target, job, signal, opts.onEvent);
    record = { ...base, status: ok ? 'ok' : 'failed', finishedAt: new Date().toISOString(), result, ...(ok ? {} : { error: String(result.error ?? `${job} did not pass`) }) };
  } catch (e) {
    // Stopped from outside (SIGTERM at shutdown, Ctrl-C): it served nothing, so the next tick runs it again.
    const stopped = opts.signal?.aborted === true;
    const timedOut = !stopped && limit.signal.aborted;
    const status = stopped ? 'interrupted' : timedOut ? 'timeout' : 'failed';
    record = { ...base, status, finishedAt: new Date().toISOString(), error: timedOut ? `${String(limit.signal.reason)}: ${(e as Error).message}` : (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
  writeRun(target.repo, record);
  return record;
}

async function follow<R>(job: Job<R>, onEvent?: (e: JobEvent) => void): Promise<R> {
  const off = onEvent ? job.on(onEvent) : () => {};
  try {
    return await job.result;
  } finally {
    off();
  }
}

async function start(configDir: string, target: Target, job: ScheduledJob, signal: AbortSignal, onEvent?: (e: JobEvent) => void): Promise<{ ok: boolean; result: Record<string, unknown> }> {
  const name = target.name;
  switch (job) {
    case 'full':
    case 'diff':
    case 'incr': {
      const m = await follow(startBackup(configDir, name, { kind: 'physical', type: job }, signal), onEvent);
      return { ok: true, result: { backup: m.id, sizeBytes: m.sizeBytes, ...(await copiesAfter(target, m.id, signal)) } };
    }
    case 'logical': {
      const m = await follow(startBackup(configDir, name, { kind: 'logical' }, signal), onEvent);
      return { ok: true, result: { backup: m.id, sizeBytes: m.sizeBytes, ...(await copiesAfter(target, m.id, signal)) } };
    }
    case 'verify': {
      // The whole repository: every backup, chain link and archived file (verify NAME).
      const r = await follow(startVerifyRepository(configDir, name, signal), onEvent);
      const verified = r.backups.filter((b) => b.status !== 'skipped').length;
      return { ok: r.ok, result: { ok: r.ok, backups: verified, ...(r.archive ? { archiveFiles: r.archive.files } : {}), ...(r.problems.length ? { error: r.problems.join('; ') } : {}) } };
    }
    case 'restore-verify': {
      const r = await follow(startVerify(configDir, name, { restore: true }, signal), onEvent);
      const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.method}: ${c.detail}`);
      return { ok: r.ok, result: { backup: r.backup, ok: r.ok, ...(r.status ? { status: r.status } : {}), ...(failed.length ? { error: failed.join('; ') } : {}) } };
    }
    case 'drill': {
      const r = await follow(startDrill(configDir, name, { to: { kind: 'latest' } }, signal), onEvent);
      return {
        ok: r.status === 'passed',
        result: { drill: r.id, status: r.status, ...(r.rto ? { rtoSeconds: r.rto.seconds } : {}), ...(r.rpo ? { rpoSeconds: r.rpo.seconds } : {}), ...(r.error ? { error: r.error } : {}) },
      };
    }
    case 'prune': {
      const r = await follow(startPruneUnlocked(configDir, name, signal), onEvent);
      return { ok: true, result: { removedBackups: r.removed.backups, archiveFiles: r.removed.archiveFiles, bytes: r.removed.bytes } };
    }
  }
}

/**
 * A backup the policy took goes to every copy at once (with the archive up to now): a backup held
 * only where it was taken is one disk away from lost. The backup stands whatever a copy does; a
 * copy that fails is recorded with the run and shows in health's 3-2-1 check until one succeeds.
 */
async function copiesAfter(target: Target, backup: string, signal: AbortSignal): Promise<{ copies?: { copy: string; ok: boolean; sent: number; failed: number; error?: string }[] }> {
  if (!target.copies?.length) return {};
  const { runCopy } = await import('../copies/send.js');
  const copies = [];
  for (const spec of target.copies) {
    try {
      const r = await runCopy(target, spec, { backup, signal });
      copies.push({ copy: spec.name, ok: r.failed.length === 0, sent: r.sent, failed: r.failed.length, ...(r.failed.length ? { error: r.failed.map((f) => `${f.file}: ${f.why}`).join('; ') } : {}) });
    } catch (e) {
      if (signal.aborted) throw e;
      copies.push({ copy: spec.name, ok: false, sent: 0, failed: 0, error: (e as Error).message });
    }
  }
  return { copies };
}

/** Tick holds the target's lock already; prune runs inside it. */
function startPruneUnlocked(configDir: string, name: string, signal: AbortSignal) {
  return startPrune(configDir, name, { dryRun: false, lockHeld: true }, signal);
}
