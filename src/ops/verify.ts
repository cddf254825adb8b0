import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import type { EngineContext } from '../engines/context.js';
import type { MethodCatalog } from '../engines/contract.js';
import { engineFor } from '../engines/registry.js';
import type { CheckOutcome } from '../engines/restore-types.js';
import { invalid } from '../errors.js';
import { describeMismatch, verifyFiles } from '../repo/checksum.js';
import { corruptReason, type BackupStatus, type Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { startJob, type Job } from './job.js';

export interface VerifyOptions {
  backup?: string;
  restore?: boolean;
  /** A copy fetched into a temp repository (--from COPY): verified instead of the primary. */
  repo?: string;
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

export function startVerify(configDir: string, name: string, opts: VerifyOptions, signal?: AbortSignal): Job<VerifyReport> {
  const stored = new TargetStore(configDir).get(name);
  const target = opts.repo ? { ...stored, repo: opts.repo } : stored;
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
  const own = await ownBackupToVerify(ctx, target, repo, opts.backup);
  if (own) {
    const checks = await own.verify(ctx, target, own.id, { restore: opts.restore === true });
    return { target: target.name, backup: own.id, ok: checks.every((c) => c.ok), checks };
  }
  const m = pickBackup(repo, target, opts.backup, { corrupt: true });
  const dir = repo.backupDir(m.id);
  const checks: CheckOutcome[] = [];

  const bad = await ctx.step('checksums', () => verifyFiles(dir, m.files), (b) => ({ ok: b.length === 0, ...(b.length > 0 ? { detail: `${b.length} file(s) differ from the manifest` } : {}) }));
  checks.push(
    bad.length === 0
      ? { method: 'sha256', ok: true, detail: `${m.files.length} file(s) match their checksums` }
      : { method: 'sha256', ok: false, detail: bad.map(describeMismatch).join('; ') },
  );

  const engine = await engineFor(m);
  checks.push(await engine.verifyStructure(ctx, m, dir));
  // The files and the tool's own reading of them: when either fails, the backup is corrupt.
  const integrity = [...checks];

  if (opts.restore) {
    if (bad.length > 0) {
      checks.push({ method: 'restore', ok: false, detail: 'skipped: the files do not match their checksums' });
    } else {
      checks.push(...(await engine.restoreCheck(ctx, target, m, dir)));
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

/**
 * The backup to verify when it is one the method's own tool keeps (a pgBackRest set): the one
 * named when dbdrill holds no manifest of that id, else the newest complete one when it is newer
 * than dbdrill's own newest (a pgBackRest target's pg_dump backups stay dbdrill's).
 */
async function ownBackupToVerify(ctx: EngineContext, target: Target, repo: Repository, id: string | undefined): Promise<{ id: string; verify: NonNullable<MethodCatalog['verify']> } | undefined> {
  const own = (await engineFor(target)).methodOf(target).ownCatalog;
  if (!own?.verify) return undefined;
  const verify = own.verify.bind(own);
  const mine = repo.catalog().manifests;
  if (id !== undefined) return mine.some((m) => m.id === id) ? undefined : { id, verify };
  const newestOwn = (await own.list(target, ctx.signal)).find((r) => r.status === 'complete');
  const newestMine = mine.find((m) => m.status === 'complete');
  if (!newestOwn || (newestMine && newestMine.startedAt > newestOwn.startedAt)) return undefined;
  return { id: newestOwn.id, verify };
}

/** corrupt when the files or the tool's reading of them failed; complete again once they pass. */
export function statusAfterVerify(current: BackupStatus, intact: boolean): BackupStatus {
  if (current !== 'complete' && current !== 'corrupt') return current;
  return intact ? 'complete' : 'corrupt';
}
