import { compareStats, describeMismatches } from '../compare-stats.js';
import type { EngineContext } from '../context.js';
import type { LogicalRestoreReport, LogicalRestoreRequest } from '../restore-types.js';
import type { Target } from '../../config/target.js';
import type { Manifest } from '../../repo/manifest.js';
import { pgLogicalRestore, splitTable } from './logical-restore.js';

/**
 * The PostgreSQL half of a logical restore: pg_restore into a new database on the target's server,
 * then the restored tables compared with the row counts and digests recorded at backup time.
 */
export async function pgLogicalRestoreReport(ctx: EngineContext, target: Target, m: Manifest, dir: string, req: LogicalRestoreRequest): Promise<LogicalRestoreReport> {
  ctx.emit({ type: 'log', level: 'info', text: `restoring backup ${m.id} into database ${req.dbname} on ${target.host}:${target.port}` });
  const tables = await pgLogicalRestore(ctx, target, m, dir, req);
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
