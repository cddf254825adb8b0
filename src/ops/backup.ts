import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import type { BackupResult, RecordTool } from '../engines/backup-result.js';
import type { EngineBackupRequest, EngineMethod, EngineModule } from '../engines/contract.js';
import { engineFor } from '../engines/registry.js';
import { DbdrillError, invalid } from '../errors.js';
import { checksumFiles, listFiles, type FileSum } from '../repo/checksum.js';
import { backupSink, type BackupSink } from '../crypto/sealed.js';
import { FollowHash } from '../repo/follow-hash.js';
import type { BackupKind, BackupType, Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { reapInterrupted, thisProcessOwner } from './interrupted.js';
import { startJob, type Job, type JobContext } from './job.js';
import { testTarget } from './targets.js';

export interface BackupOptions {
  kind: BackupKind;
  type?: BackupType;
  jobs?: number;
  checkpoint?: 'fast' | 'spread';
  /** Record a digest of every table's contents, not only its row count (logical backups). */
  digests?: boolean;
}

export function startBackup(configDir: string, name: string, opts: BackupOptions, signal?: AbortSignal): Job<Manifest> {
  const target = new TargetStore(configDir).get(name);
  return startJob((ctx) => runBackup(ctx, target, opts), signal);
}

/**
 * The backup lifecycle every engine shares: a manifest marked running before the tool starts
 * (and rewritten with the tool and its argv once the engine has chosen them), checksums of every
 * file written, then complete — or, on any failure or cancel, failed with the reason and the
 * partial data removed, so a restore can never pick up half a backup.
 */
export async function runBackup(ctx: JobContext, target: Target, opts: BackupOptions): Promise<Manifest> {
  const type = opts.type ?? 'full';
  const engine = await engineFor(target);
  const method = engine.methodOf(target);
  if (!method.backupTypes[opts.kind].includes(type)) throw invalid(typeRefusal(engine, target, method, opts.kind, type));
  const own = method.ownCatalog?.kinds.includes(opts.kind) ? method.ownCatalog : undefined;
  // The method's tool gets ready (its module, binary and catalog) while dbdrill connects: on a
  // pgBackRest backup of a few seconds, these steps one after the other were a tenth of it.
  const prepared = own?.prepareTake?.(target);
  prepared?.catch(() => undefined);
  const probing = ctx.step('connect', () => testTarget(target));
  if (own) {
    // The method's tool keeps the backup, its checksums and its catalog (pgBackRest's repository):
    // dbdrill writes no manifest of its own, and the catalog reads the tool's. The tool starts
    // while dbdrill still connects: one after the other, connecting was a tenth of a full backup.
    probing.catch(() => undefined);
    try {
      return await own.take(ctx, target, probing, { kind: opts.kind, type, jobs: opts.jobs, checkpoint: opts.checkpoint, digests: opts.digests }, prepared);
    } catch (e) {
      // The connect step ends first, and a server that cannot be reached is the thing to fix
      // first: its sentence wins over the tool's (which may only echo it) or a refusal's.
      await probing;
      throw e;
    }
  }
  const probe = await probing;
  const repo = new Repository(target.repo);
  repo.ensure(target, probe.systemId);
  const { reaped, manifests } = await reapInterrupted(repo, repo.catalog().manifests);
  for (const m of reaped) ctx.emit({ type: 'log', level: 'warn', text: `backup ${m.id} was left running and is now marked failed (${m.error})` });
  // A diff or incr without a valid base is refused here, before a manifest or directory exists.
  const base = type === 'full' ? undefined : await chainBaseOf(method, target, manifests, type, probe);
  if (base) ctx.emit({ type: 'log', level: 'info', text: `${type} backup taken against ${base.type} backup ${base.id}` });
  const { id, dir } = repo.newBackup(opts.kind, type);
  // Chosen once from the target: the engine's tools write in plain, or through age.
  const sink = backupSink(dir, target.encryptTo);
  let manifest: Manifest = {
    formatVersion: 1,
    id,
    target: target.name,
    engine: target.engine,
    kind: opts.kind,
    type,
    status: 'running',
    tool: { name: '', version: '', argv: [] },
    serverVersion: probe.serverVersion,
    startedAt: new Date().toISOString(),
    sizeBytes: 0,
    files: [],
    owner: thisProcessOwner(),
  };
  // Files the tool writes front to back are hashed while it writes them, not re-read after it.
  const followed = new Map<string, FollowHash>();
  const recordTool: RecordTool = (tool, outputs) => {
    manifest = { ...manifest, tool };
    repo.writeManifest(manifest);
    for (const rel of outputs?.appendOnly ?? []) if (!followed.has(rel)) followed.set(rel, new FollowHash(join(dir, rel)));
  };

  try {
    repo.writeManifest(manifest);
    ctx.emit({ type: 'log', level: 'info', text: `backup ${id} into ${dir}` });
    const result = await engineBackup(ctx, method, target, probe, dir, { ...opts, type, sink, ...(base ? { base: { manifest: base, dir: repo.backupDir(base.id) } } : {}) }, recordTool);
    manifest = { ...manifest, ...result, ...(sink.encryptTo ? { encryption: { with: 'age' as const, recipients: [...sink.encryptTo] } } : {}) };
    const stored = await ctx.step('checksum', async () => checksumFiles(dir, await listFiles(dir, (rel) => rel === 'manifest.json' || rel.startsWith('.')), followed));
    const files = withPlainSums(stored, sink);
    const { owner: _owner, ...rest } = manifest;
    manifest = {
      ...rest,
      status: 'complete',
      finishedAt: new Date().toISOString(),
      files,
      sizeBytes: files.reduce((n, f) => n + f.bytes, 0),
    };
    repo.writeManifest(manifest);
    return manifest;
  } catch (e) {
    const { owner: _owner, ...rest } = manifest;
    const message = (e as Error).message;
    const full = noSpace(e) ? noSpaceSentence(target.repo, message) : undefined;
    const reason = ctx.signal.aborted ? `cancelled (${String(ctx.signal.reason ?? 'interrupted')})` : (full ?? message);
    // Removing the partial data first also gives a full disk back the room for the manifest;
    // a file still open for hashing would keep its blocks, so those are let go of before.
    await closeAll(followed);
    repo.quarantine(id);
    try {
      repo.writeManifest({ ...rest, status: 'failed', finishedAt: new Date().toISOString(), files: [], sizeBytes: 0, error: reason });
    } catch {
      // No manifest at all is better than one that still says running.
      rmSync(dir, { recursive: true, force: true });
    }
    if (e instanceof DbdrillError) throw new DbdrillError(e.code, `Backup ${id} failed: ${full ?? message}`, { ...e.detail, backup: id });
    if (full) throw new DbdrillError('failed', `Backup ${id} failed: ${full}`, { backup: id });
    throw e;
  } finally {
    await closeAll(followed);
  }
}

/**
 * An encrypted backup records each file's plain sums beside the stored ones; a file the tool
 * wrote past the sink (in plain) would defeat the encryption, so the backup fails instead.
 */
function withPlainSums(files: FileSum[], sink: BackupSink): FileSum[] {
  if (!sink.encryptTo) return files;
  return files.map((f) => {
    if (sink.plainByDesign.has(f.path)) return f;
    const plain = sink.plain.get(f.path);
    if (!plain) throw new DbdrillError('failed', `${f.path} was written without encryption although the target encrypts its repository; the backup is not kept.`);
    return { ...f, plain };
  });
}

function closeAll(followed: Map<string, FollowHash>): Promise<unknown> {
  return Promise.all([...followed.values()].map((f) => f.close()));
}

/** The disk under the repository filled up: the tool says so in its own words, Node with ENOSPC. */
function noSpace(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOSPC' || /no space left on device/i.test((e as Error).message ?? '');
}

function noSpaceSentence(repo: string, message: string): string {
  return `no space left on the disk of the repository ${repo} (${message.replace(/\.$/, '')}); free space there or give the target a --repo on a larger disk`;
}

async function engineBackup(
  ctx: JobContext,
  method: EngineMethod,
  target: Target,
  probe: Awaited<ReturnType<typeof testTarget>>,
  dir: string,
  req: EngineBackupRequest,
  recordTool: RecordTool,
): Promise<BackupResult> {
  // Only the target's own engine is loaded, and of it only the tool that runs: a cron'd pg_dump
  // need not pay for mysql2, nor the reverse (start-up is part of every backup's time, bench/backup.ts).
  if (!method.backup) throw invalid(method.unwired ?? `the ${method.name} method cannot take backups yet; take a native backup.`);
  return method.backup(ctx, target, probe, dir, req, recordTool);
}

/** The base a diff or incr is taken against, from the method that links its own chains. */
async function chainBaseOf(method: EngineMethod, target: Target, manifests: Manifest[], type: Exclude<BackupType, 'full'>, probe: Awaited<ReturnType<typeof testTarget>>): Promise<Manifest> {
  if (!method.chainBase) throw invalid(method.unwired ?? `the ${method.name} method cannot take ${type} backups yet; take a full backup.`);
  return method.chainBase(target, manifests, type, probe);
}

/** --type the target's method does not take, in one sentence that says what it does take. */
function typeRefusal(engine: EngineModule, target: Target, method: EngineMethod, kind: BackupKind, type: BackupType): string {
  if (kind === 'logical' && type !== 'full') return `A logical backup is always full; drop --type ${type} or use --kind physical.`;
  // The method's own sentence knows its remedy (pg_basebackup: switch the target to pgbackrest).
  const own = method.refuseType?.(target, kind, type);
  if (own) return own;
  const others = Object.values(engine.methods).filter((m) => m !== method && m.backupTypes[kind].includes(type)).map((m) => m.name);
  const elsewhere = others.length > 0 ? `; the ${others.join(', ')} method takes them${others.some((n) => !engine.methods[n]!.backup && !engine.methods[n]!.ownCatalog) ? ' (not wired into dbdrill backup yet)' : ''}` : '';
  return `Target "${target.name}" runs the ${engine.label} ${method.name} method, which takes ${method.backupTypes[kind].join(', ') || 'no'} ${kind} backups, not --type ${type}${elsewhere}; drop --type ${type}.`;
}
