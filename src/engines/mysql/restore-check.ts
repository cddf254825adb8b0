import { compareStats, describeMismatches } from '../compare-stats.js';
import type { EngineContext } from '../context.js';
import { parseDumpHead } from './dump-head.js';
import { readDump } from './sealed-dump.js';
import { myLogicalRestore } from './logical-restore.js';
import { checkTables, verifyDumpStructure, verifyPhysical, type CheckOutcome } from './verify.js';
import { DbdrillError, invalid } from '../../errors.js';
import type { Manifest } from '../../repo/manifest.js';
import { startMariadbSandbox } from '../../sandbox/index.js';
import { SYSTEM_SCHEMAS, userSchemas } from './schemas.js';
import { restoredStats } from './logical-restore.js';
import type { Target } from '../../config/target.js';
import type { SandboxInstance } from '../../sandbox/index.js';
import { startOnPhysicalBackup } from './pitr.js';
import { sandboxTarget } from '../../sandbox/target.js';
import { verifyChainMember } from '../repository-checks.js';

/** The tool's own reading of a backup: mariadb-backup's files for a physical one, the dump's structure for a logical one. */
export async function verifyStructure(ctx: EngineContext, m: Manifest, dir: string): Promise<CheckOutcome> {
  // A diff or incr of a mariadb-backup chain is an incremental copy, not a prepared full.
  if (m.kind === 'physical') return m.type === 'full' ? verifyPhysical(m, dir) : verifyChainMember(m, dir);
  return ctx.step('dump structure', () => verifyDumpStructure(ctx, m, dir), (c) => c);
}

/** verify --restore of a MySQL/MariaDB backup. */
export function restoreCheck(ctx: EngineContext, target: Target, m: Manifest, dir: string): Promise<CheckOutcome[]> {
  return m.kind === 'physical' ? mysqlPhysicalRestoreCheck(ctx, target, m) : mysqlRestoreCheck(ctx, m, dir);
}

/**
 * verify --restore for a MySQL/MariaDB logical backup: load the dump into a throw-away MariaDB,
 * compare every table's rows and digest with those recorded at backup time, and have the server
 * read every restored table back with CHECK TABLE.
 */
export async function mysqlRestoreCheck(ctx: EngineContext, m: Manifest, dir: string): Promise<CheckOutcome[]> {
  const head = parseDumpHead((await readDump(dir, ctx.signal)).head);
  if (head.serverVersion && !/mariadb/i.test(head.serverVersion)) {
    throw invalid(`Backup ${m.id} is a MySQL dump and the scratch server dbdrill starts is MariaDB, which cannot load MySQL-only syntax reliably; run verify without --restore.`);
  }
  const sandbox = await ctx.step('start scratch server', () => startMariadbSandbox({ signal: ctx.signal, binlog: false }));
  try {
    const scratch = sandboxTarget(sandbox, 'verify-scratch', '');
    // The scratch server has its own system schemas; a backup of one of those loads beside it.
    const dbname = m.database === undefined ? 'restored' : SYSTEM_SCHEMAS.has(m.database.toLowerCase()) ? `restored_${m.database}` : m.database;
    const restored = await myLogicalRestore(ctx, scratch, m, dir, { dbname });
    const rows = restored.reduce((n, t) => n + t.rows, 0);
    const mismatches = compareStats(m.tables ?? [], restored);
    const out: CheckOutcome[] = [
      m.tables === undefined
        ? { method: 'restore', ok: true, detail: `restored ${restored.length} tables (${rows} rows); the backup recorded no table counts to compare with` }
        : mismatches.length === 0
          ? { method: 'restore', ok: true, detail: `restored ${restored.length} tables; rows and digests match the backup (${rows} rows)` }
          : { method: 'restore', ok: false, detail: describeMismatches(mismatches) },
    ];
    out.push(await ctx.step('CHECK TABLE', () => checkTables(scratch, dbname), (c) => c));
    return out;
  } catch (e) {
    if (e instanceof DbdrillError && e.code !== 'aborted') return [{ method: 'restore', ok: false, detail: e.message }];
    throw e;
  } finally {
    await sandbox.stop();
  }
}

/**
 * verify --restore for a mariadb-backup backup: start a throw-away MariaDB on a copy of its files
 * (the backup's own moment, nothing replayed), count every table of every schema the backup holds
 * (compared with the counts recorded at backup time when there are any), and have the server read
 * every table back with CHECK TABLE.
 */
export async function mysqlPhysicalRestoreCheck(ctx: EngineContext, target: Target, m: Manifest): Promise<CheckOutcome[]> {
  let sandbox: SandboxInstance | undefined;
  try {
    sandbox = await ctx.step('start scratch server', () => startOnPhysicalBackup(ctx, target, m, { keep: false }));
    const scratch = sandboxTarget(sandbox, 'verify-scratch', '');
    const schemas = await userSchemas(scratch);
    const counted = new Map<string, Awaited<ReturnType<typeof restoredStats>>>();
    for (const s of schemas) counted.set(s, await restoredStats(ctx, scratch, s));
    const all = [...counted.values()].flat();
    const rows = all.reduce((n, t) => n + t.rows, 0);
    const started = `started MariaDB ${sandbox.version} on the restored files${m.mysql?.binlogFile ? ` (binlog ${m.mysql.binlogFile}:${m.mysql.binlogPosition})` : ''}`;
    const summary = `${all.length} table(s) in ${schemas.length} schema(s), ${rows} rows`;
    let restore: CheckOutcome;
    if (m.tables === undefined) {
      restore = { method: 'restore', ok: true, detail: `${started}; counted ${summary}; the backup recorded no table counts to compare with` };
    } else {
      const mismatches = compareStats(m.tables, counted.get(m.database ?? target.dbname) ?? []);
      restore = mismatches.length === 0
        ? { method: 'restore', ok: true, detail: `${started}; rows and digests match the backup (${summary})` }
        : { method: 'restore', ok: false, detail: describeMismatches(mismatches) };
    }
    const checks = await ctx.step('CHECK TABLE', async () => {
      const out: CheckOutcome[] = [];
      for (const s of schemas) out.push(await checkTables(scratch, s));
      return out;
    }, (cs) => ({ ok: cs.every((c) => c.ok) }));
    const bad = checks.flatMap((c, i) => (c.ok ? [] : [`${schemas[i]}: ${c.detail}`]));
    return [
      restore,
      bad.length === 0
        ? { method: 'CHECK TABLE', ok: true, detail: `${all.length} table(s) OK in ${schemas.length} schema(s)` }
        : { method: 'CHECK TABLE', ok: false, detail: bad.join('; ') },
    ];
  } catch (e) {
    if (e instanceof DbdrillError && e.code !== 'aborted') return [{ method: 'restore', ok: false, detail: e.message }];
    throw e;
  } finally {
    await sandbox?.stop();
  }
}
