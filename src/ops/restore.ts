import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import type { EngineContext } from '../engines/context.js';
import { engineFor } from '../engines/registry.js';
import type { LogicalRestoreReport, LogicalRestoreRequest } from '../engines/restore-types.js';
import { invalid } from '../errors.js';
import { skippedNote } from '../pitr/corrupt.js';
import { Repository } from '../repo/repository.js';
import { startJob, type Job } from './job.js';
import { pickBackup } from './verify.js';

export type { LogicalRestoreReport, LogicalRestoreRequest } from '../engines/restore-types.js';

export function startLogicalRestore(configDir: string, name: string, req: LogicalRestoreRequest, signal?: AbortSignal): Job<LogicalRestoreReport> {
  const stored = new TargetStore(configDir).get(name);
  // --from COPY: the backup is read from the copy fetched into a temp repository.
  const target = req.repo ? { ...stored, repo: req.repo } : stored;
  return startJob((ctx) => runLogicalRestore(ctx, target, req), signal);
}

/** Restores a logical backup into a new database on the target's server; the source stays untouched. */
export async function runLogicalRestore(ctx: EngineContext, target: Target, req: LogicalRestoreRequest): Promise<LogicalRestoreReport> {
  if (req.dbname === target.dbname) {
    throw invalid(`--dbname ${req.dbname} is the target's own database; a restore never overwrites its source, so name a new database.`);
  }
  const repo = new Repository(target.repo);
  const all = req.backup ? [] : repo.catalog().manifests;
  const m = req.backup ? pickBackup(repo, target, req.backup) : all.find((x) => x.status === 'complete' && x.kind === 'logical');
  if (!m) throw invalid(`Target "${target.name}" has no complete logical backup; take one with dbdrill backup ${target.name} --kind logical.`);
  // The newest logical backup is corrupt: say which one is restored instead.
  for (const note of skippedNote(all.filter((x) => x.status === 'corrupt' && x.kind === 'logical' && x.id > m.id), m)) ctx.emit({ type: 'log', level: 'warn', text: note });
  if (m.kind !== 'logical') {
    throw invalid(`Backup ${m.id} is physical; restore it with --into DIR --port P (point-in-time restore), or pick a logical backup for --dbname.`);
  }
  return (await engineFor(target)).logicalRestore(ctx, target, m, repo.backupDir(m.id), req);
}
