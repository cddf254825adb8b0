import type { Target } from '../../config/target.js';
import { compareStats, describeMismatches } from '../compare-stats.js';
import type { EngineContext } from '../context.js';
import { myLogicalRestore } from './logical-restore.js';
import type { Manifest } from '../../repo/manifest.js';
import type { LogicalRestoreReport, LogicalRestoreRequest } from '../restore-types.js';

/**
 * The MySQL/MariaDB half of runLogicalRestore: load the dump into a new schema, then compare the
 * restored tables with those recorded at backup time. MySQL table stats carry no schema (the
 * restore renames it) and exist only when they were counted at the dump's own binlog position.
 */
export async function mysqlLogicalRestore(ctx: EngineContext, target: Target, m: Manifest, dir: string, req: LogicalRestoreRequest): Promise<LogicalRestoreReport> {
  ctx.emit({ type: 'log', level: 'info', text: `restoring backup ${m.id} into schema ${req.dbname} on ${target.host}:${target.port}` });
  const opts = req.table === undefined ? { dbname: req.dbname } : { dbname: req.dbname, table: req.table };
  const tables = await myLogicalRestore(ctx, target, m, dir, opts);
  const recorded = m.tables?.filter((t) => req.table === undefined || t.table === req.table);
  const mismatches = compareStats(recorded ?? [], tables);
  return {
    target: target.name,
    backup: m.id,
    dbname: req.dbname,
    tables,
    matches: mismatches.length === 0,
    detail:
      recorded === undefined
        ? `${tables.length} table(s) restored; the backup recorded no table counts to compare with`
        : mismatches.length === 0
          ? `${tables.length} table(s) match the backup's row counts and digests`
          : describeMismatches(mismatches),
  };
}
