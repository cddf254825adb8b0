import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import { compareStats, describeMismatches, whatWasCompared } from '../engines/compare-stats.js';
import type { EngineContext } from '../engines/context.js';
import { runAmcheck } from '../engines/postgres/amcheck.js';
import { dumpPathOf, pgLogicalRestore } from '../engines/postgres/logical-restore.js';
import { verifyBaseBackup, verifyDumpToc, type CheckOutcome } from '../engines/postgres/verify.js';
import { DbdrillError, invalid } from '../errors.js';
import { describeMismatch, verifyFiles } from '../repo/checksum.js';
import { corruptReason, type BackupStatus, type Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { startPostgresSandbox } from '../sandbox/index.js';
import { verifyDumpStructure, verifyPhysical } from '../engines/mysql/verify.js';
import { verifyChainMember } from '../engines/repository-checks.js';
import { startJob, type Job } from './job.js';
import { mysqlPhysicalRestoreCheck, mysqlRestoreCheck } from './verify-mysql.js';
import { PhysicalScratch } from './physical-scratch.js';
import { sandboxTarget } from './sandbox-target.js';

export interface VerifyOptions {
  backup?: string;
  restore?: boolean;
}

export interface VerifyReport {
  target: string;
  backup: string;
  ok: boolean;
  checks: CheckOutcome[];
  /** The backup's status before and after this run: corrupt when its files or the tool's reading of them failed. */
  statusBefore?: BackupStatus;
  status?: BackupStatus;
}

/** A check's own result is its step's: a check that ran and failed shows FAIL, not OK. */
export const asOutcome = (c: CheckOutcome): CheckOutcome => c;

export function startVerify(configDir: string, name: string, opts: VerifyOptions, signal?: AbortSignal): Job<VerifyReport> {
  const target = new TargetStore(configDir).get(name);
  return startJob((ctx) => runVerify(ctx, target, opts), signal);
}

/**
 * The backup named, or the newest complete one. A corrupt backup is never picked by default and
 * is refused when named, unless `corrupt` allows it (verify: checking it again is how a repaired
 * backup becomes complete again).
 */
export function pickBackup(repo: Repository, target: Target, id?: string, opts: { corrupt?: boolean } = {}): Manifest {
  if (id) {
    const m = repo.readManifest(id);
    if (m.status === 'corrupt' && !opts.corrupt) {
      throw invalid(
        `Backup ${id} is corrupt (${corruptReason(m)}); restore another one (dbdrill catalog ${target.name}), or put the damaged file back and run dbdrill verify ${target.name} --backup ${id}.`,
      );
    }
    if (m.status !== 'complete' && m.status !== 'corrupt') {
      throw invalid(`Backup ${id} is ${m.status}${m.error ? ` (${m.error})` : ''}; only complete backups can be verified or restored.`);
    }
    return m;
  }
  const m = repo.catalog().manifests.find((x) => x.status === 'complete');
  if (!m) throw invalid(`Target "${target.name}" has no complete backup yet; take one with dbdrill backup ${target.name}.`);
  return m;
}

/**
 * Checks a backup the ways that can fail independently: every file's checksum (a flipped byte is
 * named), the tool's own reading of it, and with --restore a real restore into a scratch server
 * whose tables must match the counts and digests recorded at backup time. Every outcome is
 * appended to the manifest, pass or fail.
 */
export async function runVerify(ctx: EngineContext, target: Target, opts: VerifyOptions): Promise<VerifyReport> {
  const repo = new Repository(target.repo);
  const m = pickBackup(repo, target, opts.backup, { corrupt: true });
  const dir = repo.backupDir(m.id);
  const checks: CheckOutcome[] = [];

  const bad = await ctx.step('checksums', () => verifyFiles(dir, m.files), (b) => ({ ok: b.length === 0, ...(b.length > 0 ? { detail: `${b.length} file(s) differ from the manifest` } : {}) }));
  checks.push(
    bad.length === 0
      ? { method: 'sha256', ok: true, detail: `${m.files.length} file(s) match their checksums` }
      : { method: 'sha256', ok: false, detail: bad.map(describeMismatch).join('; ') },
  );

  if (m.engine === 'postgres') {
    if (m.kind === 'physical') checks.push(await ctx.step('pg_verifybackup', () => verifyBaseBackup(ctx, m, dir), asOutcome));
    else checks.push(await ctx.step('pg_restore --list', () => verifyDumpToc(ctx, m, dumpPathOf(m, dir)), asOutcome));
  } else {
    // A diff or incr of a mariadb-backup chain is an incremental copy, not a prepared full.
    if (m.kind === 'physical') checks.push(m.type === 'full' ? verifyPhysical(m, dir) : verifyChainMember(m, dir));
    else checks.push(await ctx.step('dump structure', () => verifyDumpStructure(ctx, m, dir), asOutcome));
  }
  // The files and the tool's own reading of them: when either fails, the backup is corrupt.
  const integrity = [...checks];

  if (opts.restore) {
    if (bad.length > 0) {
      checks.push({ method: 'restore', ok: false, detail: 'skipped: the files do not match their checksums' });
    } else if (m.kind === 'physical') {
      checks.push(...(m.engine === 'mysql' ? await mysqlPhysicalRestoreCheck(ctx, target, m) : await physicalRestoreCheck(ctx, target, m, dir)));
    } else {
      checks.push(...(m.engine === 'mysql' ? await mysqlRestoreCheck(ctx, m, dir) : await restoreCheck(ctx, m, dir)));
    }
  }

  const at = new Date().toISOString();
  const recorded = repo.readManifest(m.id);
  // A restore check that read a file differing from its record has marked the backup corrupt already.
  const markedNow = (recorded.verification ?? []).slice(m.verification?.length ?? 0).some((v) => !v.ok);
  recorded.verification = [...(recorded.verification ?? []), ...checks.map((c) => ({ at, ...c }))];
  recorded.status = statusAfterVerify(recorded.status, integrity.every((c) => c.ok) && !markedNow);
  repo.writeManifest(recorded);
  return { target: target.name, backup: m.id, ok: checks.every((c) => c.ok), checks, statusBefore: m.status, status: recorded.status };
}

/** corrupt when the files or the tool's reading of them failed; complete again once they pass. */
export function statusAfterVerify(current: BackupStatus, intact: boolean): BackupStatus {
  if (current !== 'complete' && current !== 'corrupt') return current;
  return intact ? 'complete' : 'corrupt';
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

async function restoreCheck(ctx: EngineContext, m: Manifest, dir: string): Promise<CheckOutcome[]> {
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
