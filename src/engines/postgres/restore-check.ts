import { compareStats, describeMismatches, whatWasCompared } from '../compare-stats.js';
import type { EngineContext } from '../context.js';
import type { CheckOutcome } from '../restore-types.js';
import type { Target } from '../../config/target.js';
import { DbdrillError } from '../../errors.js';
import type { Manifest } from '../../repo/manifest.js';
import { startPostgresSandbox } from '../../sandbox/index.js';
import { sandboxTarget } from '../../sandbox/target.js';
import { runAmcheck } from './amcheck.js';
import { dumpPathOf, pgLogicalRestore } from './logical-restore.js';
import { PhysicalScratch } from './physical-scratch.js';
import { verifyBaseBackup, verifyDumpToc } from './verify.js';

/** A check's own result is its step's: a check that ran and failed shows FAIL, not OK. */
const asOutcome = (c: CheckOutcome): CheckOutcome => c;

/** The tool's own reading of a backup: pg_verifybackup for a base backup, pg_restore --list for a dump. */
export async function verifyStructure(ctx: EngineContext, m: Manifest, dir: string): Promise<CheckOutcome> {
  if (m.kind === 'physical') return ctx.step('pg_verifybackup', () => verifyBaseBackup(ctx, m, dir), asOutcome);
  return ctx.step('pg_restore --list', () => verifyDumpToc(ctx, m, dumpPathOf(m, dir)), asOutcome);
}

/** verify --restore of a PostgreSQL backup. */
export function restoreCheck(ctx: EngineContext, target: Target, m: Manifest, dir: string): Promise<CheckOutcome[]> {
  return m.kind === 'physical' ? physicalRestoreCheck(ctx, target, m, dir) : logicalRestoreCheck(ctx, m, dir);
}

/**
 * A base backup restored to its own consistent point (recovery_target = immediate, from the WAL
 * it carries) in a scratch server, which must come up and pass pg_amcheck. Row counts are not
 * part of it, and the outcome says so.
 */
async function physicalRestoreCheck(ctx: EngineContext, target: Target, m: Manifest, dir: string): Promise<CheckOutcome[]> {
  const scratch = await ctx.step('start scratch server', () => PhysicalScratch.provision(target, 'verify'));
  try {
    await ctx.step('restore base backup', () => scratch.restoreBase(ctx, m, dir, { recovery_target: 'immediate' }));
    const outcome = await ctx.step('recover to the backup end', () => scratch.replay(ctx, m, { segments: 1, startLsn: m.postgres?.startLsn, endLsn: m.postgres?.stopLsn }));
    // No row counts exist to compare: the server keeps writing while pg_basebackup copies, and no
    // snapshot matches the backup's end point, so counts taken beside it would be a guess.
    const out: CheckOutcome[] = [
      {
        method: 'restore',
        ok: true,
        detail: `started and recovered to the consistent point${outcome.state.consistentAt ? ` ${outcome.state.consistentAt}` : ''}; row counts are not compared for a physical backup (none can be recorded that match its end point), so this check proves it starts and passes pg_amcheck`,
      },
    ];
    out.push(await ctx.step('pg_amcheck', () => runAmcheck(ctx, scratch.target, target.dbname, m.serverVersion), asOutcome));
    return out;
  } catch (e) {
    if (e instanceof DbdrillError && e.code !== 'aborted') return [{ method: 'restore', ok: false, detail: e.message }];
    throw e;
  } finally {
    await scratch.stop();
  }
}

async function logicalRestoreCheck(ctx: EngineContext, m: Manifest, dir: string): Promise<CheckOutcome[]> {
  const sandbox = await ctx.step('start scratch server', () => startPostgresSandbox({ signal: ctx.signal }));
  try {
    const scratch = sandboxTarget(sandbox, 'verify-scratch', '');
    const dbname = m.database ?? 'restored';
    const restored = await pgLogicalRestore(ctx, scratch, m, dir, { dbname });
    const mismatches = compareStats(m.tables ?? [], restored);
    const out: CheckOutcome[] = [
      mismatches.length === 0
        ? { method: 'restore', ok: true, detail: `restored ${restored.length} tables; ${whatWasCompared(m.tables ?? [])} match the backup (${restored.reduce((n, t) => n + t.rows, 0)} rows)` }
        : { method: 'restore', ok: false, detail: describeMismatches(mismatches) },
    ];
    out.push(await ctx.step('pg_amcheck', () => runAmcheck(ctx, scratch, dbname, m.serverVersion), asOutcome));
    return out;
  } catch (e) {
    if (e instanceof DbdrillError && e.code !== 'aborted') return [{ method: 'restore', ok: false, detail: e.message }];
    throw e;
  } finally {
    await sandbox.stop();
  }
}
