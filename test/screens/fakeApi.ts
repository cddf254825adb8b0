import type { BackupList, ConsoleApi, RestoreRequest, TargetRow } from '../../screens/api.js';
import type { Target } from '../../src/config/target.js';
import { DbdrillError } from '../../src/errors.js';
import { entryOf } from '../../src/ops/catalog.js';
import { startJob, type JobContext } from '../../src/ops/job.js';
import type { PitrReport } from '../../src/ops/pitr.js';
import type { VerifyReport } from '../../src/ops/verify.js';
import { planRestore } from '../../src/pitr/plan.js';
import { parseRestoreTarget } from '../../src/pitr/time.js';
import { computeWindow } from '../../src/pitr/window.js';
import type { BackupKind, Manifest } from '../../src/repo/manifest.js';
import { prodInventory, prodLastCommit } from './fixtures.js';

export function target(name: string, extra: Partial<TargetRow> = {}): TargetRow {
  return {
    name,
    engine: 'postgres',
    host: '10.0.0.5',
    port: 5432,
    user: 'postgres',
    dbname: 'app',
    repo: `/srv/backups/${name}`,
    ...extra,
  };
}

export const SANDBOX: Target = {
  name: 'sandbox',
  engine: 'postgres',
  host: '127.0.0.1',
  port: 54315,
  user: 'postgres',
  dbname: 'postgres',
  repo: '/tmp/dbdrill-sandbox/repo',
  sandbox: true,
};

export interface FakeApi extends ConsoleApi {
  targets: TargetRow[];
  sandboxStarts: number;
  /** Each target's manifests, newest first: the repository as the fake sees it. */
  manifests: Record<string, Manifest[]>;
  backupsStarted: Array<{ name: string; kind: BackupKind }>;
  verifiesStarted: Array<{ name: string; id: string; restore: boolean }>;
  plans: RestoreRequest[];
  restores: RestoreRequest[];
}

export interface FakeApiOptions {
  targets?: TargetRow[];
  work?: (ctx: JobContext, api: FakeApi) => Promise<Target>;
  manifests?: Record<string, Manifest[]>;
  /** The body of a backup job; the default emits real event shapes and adds a manifest. */
  backupWork?: (ctx: JobContext, name: string, kind: BackupKind, api: FakeApi) => Promise<Manifest>;
  verifyWork?: (ctx: JobContext, name: string, id: string, restore: boolean, api: FakeApi) => Promise<VerifyReport>;
  restoreWork?: (ctx: JobContext, name: string, req: RestoreRequest, api: FakeApi) => Promise<PitrReport>;
  /** "Now" for relative times in plans. */
  now?: () => Date;
}

/**
 * A ConsoleApi from plain functions. Jobs are real Jobs (startJob) emitting real event shapes;
 * windows and plans come from the real pure code (computeWindow, planRestore) over the fixture
 * WAL inventory, so refusals are the engine's own sentences.
 */
export function fakeApi(opts: FakeApiOptions = {}): FakeApi {
  const manifestsOf = (name: string): Manifest[] => {
    if (!api.targets.some((t) => t.name === name)) throw new DbdrillError('unknown-target', `There is no target "${name}"; list them with dbdrill target list.`);
    return api.manifests[name] ?? [];
  };
  const planFor = (name: string, req: RestoreRequest, dryRun: boolean, ctx: JobContext): PitrReport => {
    const manifests = manifestsOf(name);
    const inv = prodInventory();
    const window = computeWindow(manifests, inv, prodLastCommit);
    const plan = planRestore(parseRestoreTarget({ to: req.to }, opts.now?.()), manifests, inv, window, prodLastCommit, req.backup ? { backup: req.backup } : {});
    const { backup, ...rest } = plan;
    ctx.emit({ type: 'log', level: 'info', text: `plan: backup ${backup.id}, WAL ${plan.walFrom}…${plan.walTo} (${plan.segments} segment(s))` });
    return { target: name, plan: { ...rest, backup: backup.id }, dataDir: req.into, port: req.port, seconds: 0.01, dryRun };
  };
  const api: FakeApi = {
    configDir: '/home/op/.config/dbdrill',
    version: '0.1.0',
    tempDir: '/tmp',
    targets: opts.targets ?? [],
    sandboxStarts: 0,
    manifests: opts.manifests ?? {},
    backupsStarted: [],
    verifiesStarted: [],
    plans: [],
    restores: [],
    async listTargets() {
      return api.targets.map((t) => ({ ...t }));
    },
    startSandbox() {
      api.sandboxStarts++;
      return startJob((ctx) => (opts.work ?? sandboxWork)(ctx, api));
    },
    async listBackups(name): Promise<BackupList> {
      const t = api.targets.find((x) => x.name === name);
      return { target: name, repo: t?.repo ?? '?', backups: manifestsOf(name).map((m) => entryOf(m)), unreadable: [] };
    },
    async readManifest(name, id) {
      const m = manifestsOf(name).find((x) => x.id === id);
      if (!m) throw new DbdrillError('invalid-input', `There is no backup ${id}; list them with dbdrill catalog.`);
      return structuredClone(m);
    },
    startBackup(name, kind) {
      api.backupsStarted.push({ name, kind });
      return startJob((ctx) => (opts.backupWork ?? backupWork)(ctx, name, kind, api));
    },
    startVerify(name, id, restore) {
      api.verifiesStarted.push({ name, id, restore });
      return startJob((ctx) => (opts.verifyWork ?? verifyWork)(ctx, name, id, restore, api));
    },
    async readWindow(name) {
      return computeWindow(manifestsOf(name), prodInventory(), prodLastCommit);
    },
    planRestore(name, req) {
      api.plans.push(req);
      return startJob(async (ctx) => ctx.step('plan', async () => planFor(name, req, true, ctx)));
    },
    startRestore(name, req) {
      api.restores.push(req);
      return startJob((ctx) => (opts.restoreWork ? opts.restoreWork(ctx, name, req, api) : restoreWork(ctx, name, req, planFor)));
    },
    async freePort() {
      return 54871;
    },
  };
  return api;
}

export async function sandboxWork(ctx: JobContext, api: FakeApi): Promise<Target> {
  await ctx.step('find PostgreSQL 15 tools', async () => {
    ctx.emit({ type: 'tool-line', tool: 'pg_ctl', stream: 'stdout', text: 'pg_ctl (PostgreSQL) 15.8' });
  });
  await ctx.step('create cluster with WAL archiving', async () => {
    ctx.emit({ type: 'log', level: 'info', text: 'initdb -D /tmp/dbdrill-sandbox/data' });
  });
  await ctx.step('load sample data', async () => {
    ctx.emit({ type: 'progress', phase: 'loading', done: 50, total: 100, unit: 'rows' });
  });
  api.targets.push(SANDBOX);
  return SANDBOX;
}

/** What runBackup + pgPhysicalBackup emit, in order, then a complete manifest added to the repository. */
export async function backupWork(ctx: JobContext, name: string, kind: BackupKind, api: FakeApi): Promise<Manifest> {
  const id = kind === 'physical' ? '20261125T110000Z-F' : '20261125T110000Z-L';
  await ctx.step('connect', async () => {});
  ctx.emit({ type: 'log', level: 'info', text: `backup ${id} into /srv/backups/${name}/backups/${id}` });
  await ctx.step('base backup', async () => {
    ctx.emit({ type: 'progress', phase: 'waiting for checkpoint' });
    ctx.emit({ type: 'progress', phase: 'copying', done: 52_428_800, total: 104_857_600, rate: 26_214_400, etaSeconds: 2, unit: 'bytes' });
  });
  await ctx.step('checksum', async () => {});
  const m: Manifest = {
    formatVersion: 1,
    id,
    target: name,
    engine: 'postgres',
    kind,
    type: 'full',
    status: 'complete',
    tool: { name: kind === 'physical' ? 'pg_basebackup' : 'pg_dump', version: '15.8', argv: [] },
    serverVersion: '15.8',
    startedAt: '2026-11-25T11:00:00.000Z',
    finishedAt: '2026-11-25T11:00:04.000Z',
    sizeBytes: 104_857_600,
    files: [{ path: 'base/base.tar', bytes: 104_857_600, sha256: 'ff'.repeat(32) }],
  };
  api.manifests[name] = [m, ...(api.manifests[name] ?? [])];
  return m;
}

export async function verifyWork(ctx: JobContext, name: string, id: string, restore: boolean): Promise<VerifyReport> {
  await ctx.step('checksums', async () => {});
  await ctx.step('pg_restore --list', async () => {});
  const checks = [
    { method: 'sha256', ok: true, detail: '1 file(s) match their checksums' },
    { method: 'pg_restore --list', ok: true, detail: 'table of contents lists 14 entries' },
  ];
  if (restore) {
    await ctx.step('start scratch server', async () => {});
    checks.push({ method: 'restore', ok: true, detail: 'restored 3 tables; rows and digests match the backup (6500 rows)' });
  }
  return { target: name, backup: id, ok: true, checks };
}

/** What runPitrRestore emits: plan, destination check, unpack, configure, replay with segment progress. */
export async function restoreWork(
  ctx: JobContext,
  name: string,
  req: RestoreRequest,
  planFor: (name: string, req: RestoreRequest, dryRun: boolean, ctx: JobContext) => PitrReport,
): Promise<PitrReport> {
  const report = await ctx.step('plan', async () => planFor(name, req, false, ctx));
  await ctx.step('check destination', async () => {});
  await ctx.step('unpack base backup', async () => {});
  await ctx.step('configure recovery', async () => {});
  await ctx.step('replay WAL', async () => {
    for (let i = 1; i <= report.plan.segments; i++) {
      ctx.emit({ type: 'tool-line', tool: 'postgres', stream: 'stderr', text: `LOG:  restored log file "00000001000000000000000${i + 1}" from archive` });
      ctx.emit({ type: 'progress', phase: 'replaying WAL', done: i, total: report.plan.segments, unit: 'segments' });
    }
  });
  return {
    ...report,
    pid: 4242,
    logFile: `${req.into}/dbdrill-restore.log`,
    reached: { lastCommitAt: '2026-11-25T09:04:00.000Z' },
    timeline: 2,
    segmentsRestored: report.plan.segments,
    seconds: 3.2,
  };
}
