import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import { compareStats, describeMismatches } from '../engines/compare-stats.js';
import type { EngineContext } from '../engines/context.js';
import { pgLogicalRestore, splitTable } from '../engines/postgres/logical-restore.js';
import { invalid } from '../errors.js';
import type { TableStat } from '../repo/manifest.js';
import { skippedNote } from '../pitr/corrupt.js';
import { Repository } from '../repo/repository.js';
import { startJob, type Job } from './job.js';
import { mysqlLogicalRestore } from './restore-mysql.js';
import { pickBackup } from './verify.js';

export interface LogicalRestoreRequest {
  backup?: string;
  dbname: string;
  table?: string;
  jobs?: number;
  /** Read the backup from this repository instead (a copy fetched by src/copies/fetch.ts). */
  repo?: string;
}

export interface LogicalRestoreReport {
  target: string;
  backup: string;
  dbname: string;
  tables: TableStat[];
  /** Restored tables compared with the counts recorded at backup time. */
  matches: boolean;
  detail: string;
}

export function startLogicalRestore(configDir: string, name: string, req: LogicalRestoreRequest, signal?: AbortSignal): Job<LogicalRestoreReport> {
  const stored = new TargetStore(configDir).get(name);
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
  if (target.engine === 'mysql') return mysqlLogicalRestore(ctx, target, m, repo.backupDir(m.id), req);
  ctx.emit({ type: 'log', level: 'info', text: `restoring backup ${m.id} into database ${req.dbname} on ${target.host}:${target.port}` });
  const tables = await pgLogicalRestore(ctx, target, m, repo.backupDir(m.id), req);
  const expected = req.table ? (m.tables ?? []).filter((t) => t.table === `${splitTable(req.table!).schema}.${splitTable(req.table!).table}`) : (m.tables ?? []);
  const mismatches = compareStats(expected, tables);
  return {
    target: target.name,
    backup: m.id,
    dbname: req.dbname,
    tables,
    matches: mismatches.length === 0,
    detail: mismatches.length === 0 ? `${tables.length} table(s) match the backup's row counts and digests` : describeMismatches(mismatches),
  };
}
