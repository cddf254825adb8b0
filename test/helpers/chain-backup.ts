import type { Target } from '../../src/config/target.js';
import { chainBaseFor } from '../../src/engines/mysql/chain.js';
import { myPhysicalBackup } from '../../src/engines/mysql/physical-backup.js';
import { probeMysql } from '../../src/engines/mysql/probe.js';
import { startJob, type JobContext, type JobEvent } from '../../src/ops/job.js';
import { checksumFiles, listFiles } from '../../src/repo/checksum.js';
import type { BackupType, Manifest } from '../../src/repo/manifest.js';
import { Repository } from '../../src/repo/repository.js';

/** Runs `work` as a job and keeps its events (steps, logs, progress) for the test to read. */
export async function runJob<T>(work: (ctx: JobContext) => Promise<T>): Promise<{ result: T; events: JobEvent[] }> {
  const events: JobEvent[] = [];
  const job = startJob(work);
  job.on((e) => events.push(e));
  try {
    return { result: await job.result, events };
  } catch (e) {
    Object.assign(e as object, { events });
    throw e;
  }
}

/**
 * A physical backup of `target` of any chain type, with the lifecycle runBackup gives every backup
 * (base picked from the catalog before anything is written; manifest running, the engine, the
 * checksum of every file, complete; on failure marked failed with the partial data removed).
 * runBackup itself takes only full backups until the chain is wired into it (stage 2 of issue 15).
 */
export async function takePhysicalBackup(target: Target, type: BackupType): Promise<{ manifest: Manifest; events: JobEvent[] }> {
  const repo = new Repository(target.repo);
  const { result, events } = await runJob(async (ctx) => {
    const probe = await probeMysql(target);
    repo.ensure(target, probe.systemId);
    const base = type === 'full' ? undefined : chainBaseFor(repo.catalog().manifests, type, { target: target.name, serverVersion: probe.serverVersion });
    const { id, dir } = repo.newBackup('physical', type);
    let m: Manifest = {
      formatVersion: 1, id, target: target.name, engine: 'mysql', kind: 'physical', type, status: 'running',
      tool: { name: '', version: '', argv: [] }, serverVersion: probe.serverVersion, startedAt: new Date().toISOString(), sizeBytes: 0, files: [],
    };
    repo.writeManifest(m);
    try {
      const r = await myPhysicalBackup(ctx, target, probe, dir, base ? { base: { manifest: base, dir: repo.backupDir(base.id), type: type as 'diff' | 'incr' } } : {});
      m = { ...m, ...r };
      const files = await checksumFiles(dir, await listFiles(dir, (rel) => rel === 'manifest.json'));
      m = { ...m, status: 'complete', finishedAt: new Date().toISOString(), files, sizeBytes: files.reduce((n, f) => n + f.bytes, 0) };
      repo.writeManifest(m);
      return m;
    } catch (e) {
      repo.quarantine(id);
      repo.writeManifest({ ...m, status: 'failed', finishedAt: new Date().toISOString(), error: (e as Error).message });
      throw e;
    }
  });
  return { manifest: result, events };
}
