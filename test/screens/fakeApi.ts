import { heldText, type Held } from '../../src/copies/status.js';
import type { BackupList, ConsoleApi, DrillRequest, HealthFeed, PolicyForm, RestoreRequest, StrategyView, TargetForm, TargetRow, TargetSummary } from '../../screens/api.js';
import { policyFieldLabel, validatePolicy } from '../../src/config/policy.js';
import { changesFromForm, mergePolicy } from '../../src/ops/policy.js';
import type { RepoVerifyReport } from '../../src/ops/verify-repository.js';
import { jobStates } from '../../src/strategy/due.js';
import { forecast } from '../../src/strategy/forecast.js';
import { weekOf } from '../../src/strategy/week.js';
import { validateTarget, type Target } from '../../src/config/target.js';
import { targetInputFromForm } from '../../src/cli/target-form.js';
import type { DrillReport } from '../../src/drill/report.js';
import type { ProbeResult } from '../../src/engines/probe-types.js';
import type { HealthReport } from '../../src/health/report.js';
import type { DisasterKind, TrainingScore, TrainingSession } from '../../src/training/session.js';
import { DbdrillError } from '../../src/errors.js';
import { entriesOf, withPitr } from '../../src/ops/catalog.js';
import { mysqlArchive } from '../../src/engines/mysql/archive.js';
import { pgArchive } from '../../src/engines/postgres/archive.js';
import { startJob, type JobContext } from '../../src/ops/job.js';
import type { PitrReport } from '../../src/ops/pitr.js';
import type { VerifyReport } from '../../src/ops/verify.js';
import { planRestore } from '../../src/pitr/plan.js';
import { parseRestoreTarget } from '../../src/pitr/time.js';
import { computeWindow } from '../../src/pitr/window.js';
import { computeMysqlWindow } from '../../src/binlog/window.js';
import type { BackupKind, Manifest } from '../../src/repo/manifest.js';
import { prodInventory, prodLastCommit } from './fixtures.js';
import type { RestoredServerState } from '../../src/ops/restored-servers.js';

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
  drills: Record<string, DrillReport[]>;
  drillsStarted: Array<{ name: string; req: DrillRequest }>;
  removed: string[];
  samples: number;
  training: Record<string, TrainingSession | undefined>;
  disasters: Array<{ name: string; kind: DisasterKind }>;
  policiesSaved: Array<{ name: string; form: PolicyForm }>;
  /** Servers restores left, as the records list them (a real restore run adds its own). */
  restored: RestoredServerState[];
  stoppedServers: string[];
  logicalRestores: Array<{ name: string; backup: string; dbname: string }>;
  commitReads: Array<{ name: string; from: string; to: string }>;
}

export interface FakeApiOptions {
  /** Where each backup is held, per target and backup id (as src/copies/status.ts's heldBy gives it). */
  held?: Record<string, Record<string, Held[]>>;
  restored?: RestoredServerState[];
  targets?: TargetRow[];
  work?: (ctx: JobContext, api: FakeApi) => Promise<Target>;
  manifests?: Record<string, Manifest[]>;
  /** The body of a backup job; the default emits real event shapes and adds a manifest. */
  backupWork?: (ctx: JobContext, name: string, kind: BackupKind, api: FakeApi) => Promise<Manifest>;
  verifyWork?: (ctx: JobContext, name: string, id: string, restore: boolean, api: FakeApi) => Promise<VerifyReport>;
  restoreWork?: (ctx: JobContext, name: string, req: RestoreRequest, api: FakeApi) => Promise<PitrReport>;
  /** "Now" for relative times in plans. */
  now?: () => Date;
  summary?: (name: string) => Promise<TargetSummary>;
  probeWork?: (ctx: JobContext, name: string) => Promise<ProbeResult>;
  drills?: Record<string, DrillReport[]>;
  drillWork?: (ctx: JobContext, name: string, req: DrillRequest, api: FakeApi) => Promise<DrillReport>;
  /** The n-th sample (from 0) of a target's health. */
  healthSample?: (name: string, n: number) => Promise<HealthReport>;
  training?: Record<string, TrainingSession | undefined>;
  disasterWork?: (ctx: JobContext, name: string, kind: DisasterKind, api: FakeApi) => Promise<TrainingSession>;
  scoreWork?: (ctx: JobContext, name: string, api: FakeApi) => Promise<TrainingScore>;
  /** The Strategy screen's last runs and next prune of a target (default: none, nothing to remove). */
  strategy?: (name: string) => Pick<StrategyView, 'runs' | 'prune'>;
  /** Measured sizes the forecast starts from (default: a 1.2 GB full, 2 GB of WAL a day). */
  forecastSizes?: { full?: number; archiveBytesPerDay?: number };
  repoVerifyWork?: (ctx: JobContext, name: string) => Promise<RepoVerifyReport>;
  /** A target's archived commit moments (default: none); the ranges asked are recorded in commitReads. */
  commits?: Record<string, string[]>;
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
    return { target: name, plan: { ...rest, archive: 'wal', backup: backup.id }, dataDir: req.into, port: req.port, seconds: 0.01, dryRun };
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
    policiesSaved: [],
    async listTargets() {
      // As the real one: the newest complete backup's end, read from the repository each time.
      return api.targets.map((t) => {
        const newest = (api.manifests[t.name] ?? []).find((m) => m.status === 'complete');
        const at = newest?.finishedAt ?? newest?.startedAt;
        return { ...t, ...(at && t.newestBackupAge === undefined ? { newestBackupAt: at } : {}) };
      });
    },
    startSandbox() {
      api.sandboxStarts++;
      return startJob((ctx) => (opts.work ?? sandboxWork)(ctx, api));
    },
    async listBackups(name): Promise<BackupList> {
      const t = api.targets.find((x) => x.name === name);
      const rows = manifestsOf(name);
      // The engines' own archives say which backups start a point-in-time restore, as readCatalog asks them.
      const archive = { pitrStart: (m: Manifest) => (m.engine === 'mysql' ? mysqlArchive : pgArchive).pitrStart(m) };
      const held = opts.held?.[name];
      const backups = withPitr(entriesOf(rows), rows, archive).map((b) => (held ? { ...b, held: heldText(held[b.id] ?? []) } : b));
      return { target: name, repo: t?.repo ?? '?', backups, unreadable: [] };
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
    startVerifyRepository(name) {
      return startJob(async (ctx) => {
        if (!opts.repoVerifyWork) throw new DbdrillError('invalid-input', `no whole-repository verify fixture for ${name}`);
        return opts.repoVerifyWork(ctx, name);
      });
    },
    async readCommitMoments(name, range) {
      api.commitReads.push({ name, ...range });
      const all = opts.commits?.[name] ?? [];
      const from = Date.parse(range.from);
      const to = Date.parse(range.to);
      return { moments: all.filter((m) => Date.parse(m) >= from && Date.parse(m) <= to + 1), from: range.from };
    },
    async readWindow(name) {
      // A MariaDB target's window: its dumps' binlog positions, no binlog archived after them yet.
      if (api.targets.find((x) => x.name === name)?.engine === 'mysql') return computeMysqlWindow(manifestsOf(name), { files: [], gaps: [] });
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
    logicalRestores: [],
    commitReads: [],
    startLogicalRestore(name, req) {
      api.logicalRestores.push({ name, ...req });
      return startJob(async (ctx) => {
        await ctx.step(`create database ${req.dbname}`, async () => {});
        await ctx.step('pg_restore', async () => {});
        return { target: name, backup: req.backup, dbname: req.dbname, tables: [{ name: 'public.orders', rows: 1200 }, { name: 'public.order_items', rows: 4000 }], matches: true, detail: "2 table(s) match the backup's row counts and digests" } as never;
      });
    },
    restored: opts.restored ?? [],
    stoppedServers: [],
    async listRestoredServers(name) {
      return api.restored.filter((r) => r.target === name);
    },
    async stopRestoredServer(name) {
      api.stoppedServers.push(name);
      api.restored = api.restored.map((r) => (r.name === name ? { ...r, running: false } : r));
      return api.restored.find((r) => r.name === name)!;
    },
    async freePort() {
      return 54871;
    },
    drills: opts.drills ?? {},
    drillsStarted: [],
    removed: [],
    samples: 0,
    training: opts.training ?? {},
    disasters: [],
    async targetSummary(name) {
      if (opts.summary) return opts.summary(name);
      const t = api.targets.find((x) => x.name === name);
      return { archiver: t?.archiver ?? '?', ...(t?.window ? { window: t.window } : {}) };
    },
    async saveTarget(form: TargetForm, original?: string) {
      // The real validation, so the form shows the engine's own sentences.
      const t = validateTarget(targetInputFromForm(form));
      if (original === undefined && api.targets.some((x) => x.name === t.name)) {
        throw new DbdrillError('duplicate-target', `A target named "${t.name}" already exists; pick another name or remove it first with dbdrill target remove ${t.name}.`);
      }
      api.targets = [...api.targets.filter((x) => x.name !== (original ?? t.name)), t].sort((a, b) => a.name.localeCompare(b.name));
      return t;
    },
    async removeTarget(name) {
      const t = api.targets.find((x) => x.name === name);
      if (!t) throw new DbdrillError('unknown-target', `There is no target named "${name}".`);
      api.targets = api.targets.filter((x) => x.name !== name);
      api.removed.push(name);
      return t;
    },
    testTarget(name) {
      return startJob((ctx) =>
        ctx.step('connect', () =>
          opts.probeWork
            ? opts.probeWork(ctx, name)
            : Promise.resolve<ProbeResult>({
                target: name, engine: 'postgres', serverVersion: '15.8', serverMajor: 15, flavor: 'postgresql', systemId: '7311111111111111111',
                archiving: { enabled: true, detail: 'archive_mode=on' }, privileges: [{ purpose: 'physical backup (pg_basebackup)', ok: true, detail: 'REPLICATION' }], connectMs: 12,
              }),
        ),
      );
    },
    startDrill(name, req) {
      api.drillsStarted.push({ name, req });
      return startJob((ctx) => (opts.drillWork ?? drillWork)(ctx, name, req, api));
    },
    async listDrills(name) {
      return [...(api.drills[name] ?? [])];
    },
    openHealth(name): HealthFeed {
      let n = 0;
      return {
        sample: async () => {
          api.samples++;
          if (!opts.healthSample) throw new DbdrillError('invalid-input', `no health fixture for ${name}`);
          return opts.healthSample(name, n++);
        },
        close: async () => {},
      };
    },
    async readTraining(name) {
      return api.training[name];
    },
    // The policy is the target row's; jobs, the week and the forecast come from the real pure code.
    async readStrategy(name) {
      const t = api.targets.find((x) => x.name === name);
      if (!t) throw new DbdrillError('unknown-target', `There is no target "${name}"; list them with dbdrill target list.`);
      const now = opts.now?.() ?? new Date();
      return {
        target: name,
        ...(t.policy ? { policy: t.policy } : {}),
        ...(t.rpo ? { rpo: t.rpo } : {}),
        ...(t.rto ? { rto: t.rto } : {}),
        jobs: jobStates(t.policy, now, {}).map((j) => ({ job: j.job, schedule: j.schedule, due: j.due, ...(j.next ? { next: j.next.toISOString() } : {}), reason: j.reason })),
        week: weekOf(t.policy, now),
        ...(opts.strategy?.(name) ?? { runs: [], prune: { backups: [], archive: { files: 0, bytes: 0, reason: '' }, kept: 0 } }),
      };
    },
    async readForecast(name) {
      const t = api.targets.find((x) => x.name === name)!;
      const now = opts.now?.() ?? new Date();
      const sizes = { full: opts.forecastSizes?.full ?? 1.2e9 };
      const archiveBytesPerDay = opts.forecastSizes?.archiveBytesPerDay ?? 2e9;
      const f = forecast({ policy: t.policy, now, days: 7, sizes, archiveBytesPerDay, archiveTimeoutSeconds: 60, engine: t.engine, ...(t.rpo ? { rpoSeconds: 300 } : {}), ...(t.rto ? { rtoSeconds: 3600 } : {}), drills: [] });
      return { target: name, days: 7, measured: { sizes, archiveBytesPerDay }, ...f };
    },
    async savePolicy(name, form) {
      api.policiesSaved.push({ name, form: { ...form } });
      const t = api.targets.find((x) => x.name === name)!;
      const merged = mergePolicy(t.policy, changesFromForm(form));
      const policy = validatePolicy(merged, t, policyFieldLabel(''));
      api.targets = api.targets.map((x) => (x.name === name ? { ...x, ...(policy ? { policy } : {}) } : x));
    },
    startDisaster(name, kind) {
      api.disasters.push({ name, kind });
      return startJob(async (ctx) => {
        const s = await (opts.disasterWork ?? disasterWork)(ctx, name, kind, api);
        api.training[name] = s;
        return s;
      });
    },
    scoreTraining(name) {
      return startJob(async (ctx) => {
        if (!opts.scoreWork) throw new DbdrillError('invalid-input', 'No restore of this target was recorded yet.');
        const score = await opts.scoreWork(ctx, name, api);
        api.training[name] = { ...api.training[name]!, score };
        return score;
      });
    },
    repairTraining(name) {
      return startJob(async (ctx) => {
        await ctx.step('put archive_command back', async () => {});
        api.training[name] = { ...api.training[name]!, repairedAt: new Date().toISOString() };
        return api.training[name]!;
      });
    },
    endTraining(name) {
      return startJob(async (ctx) => {
        await ctx.step('put public.order_items back as the sample had it', async () => {});
        const s = api.training[name]!;
        api.training[name] = undefined;
        return s;
      });
    },
  };
  return api;
}

/** A drill's events as runDrill emits them: every step pending, then each in turn, then the report. */
export async function drillWork(ctx: JobContext, name: string, req: DrillRequest, api: FakeApi): Promise<DrillReport> {
  const steps = ['pick backup', 'verify backup files', 'provision scratch instance', 'restore base', 'replay WAL', 'verify', 'measure', 'tear down'];
  for (const s of steps) ctx.emit({ type: 'step', step: s, status: 'pending' });
  for (const s of steps) {
    await ctx.step(s, async () => {
      if (s === 'replay WAL') ctx.emit({ type: 'progress', phase: 'replaying WAL', done: 3, total: 5, unit: 'segments' });
    });
  }
  const report: DrillReport = {
    formatVersion: 1,
    id: '20261201T100000Z',
    target: name,
    engine: 'postgres',
    status: 'passed',
    startedAt: '2026-12-01T10:00:00.000Z',
    finishedAt: '2026-12-01T10:00:41.000Z',
    requested: req.to,
    backup: '20261125T110000Z-F',
    kind: 'physical',
    steps: steps.map((n) => ({ name: n, status: 'done' as const, seconds: 1 })),
    checks: [
      { name: 'accepts connections', ok: true, detail: 'connected to 127.0.0.1:54999 as postgres' },
      { name: 'pg_amcheck', ok: true, detail: 'no corruption found' },
    ],
    rto: { seconds: 41, transferSeconds: 12, replaySeconds: 20, objectiveSeconds: 900, ok: true },
    rpo: { seconds: 12, reference: 'now minus the newest archived segment', objectiveSeconds: 60, ok: true },
  };
  api.drills[name] = [report, ...(api.drills[name] ?? [])];
  return report;
}

export function trainingSession(kind: DisasterKind = 'drop-table', extra: Partial<TrainingSession> = {}): TrainingSession {
  return {
    formatVersion: 1,
    target: 'sandbox',
    kind,
    startedAt: '2026-12-01T10:00:00.000Z',
    lastGoodAt: '2026-12-01T10:00:05.400Z',
    disasterAt: '2026-12-01T10:00:06.700Z',
    what: kind === 'break-archiving' ? 'archive_command exits 200' : 'DROP TABLE order_items',
    ...(kind === 'break-archiving' ? {} : { before: { table: 'public.order_items', rows: 4000, digest: '12345' } }),
    baseBackup: '20261201T095900Z-F',
    archiveCommand: 'dbdrill wal-push --repo /tmp/r %p',
    objectives: { rtoSeconds: 900, rpoSeconds: 60 },
    ...extra,
  };
}

export async function disasterWork(ctx: JobContext, name: string, kind: DisasterKind): Promise<TrainingSession> {
  await ctx.step('business as usual: a few commits', async () => {});
  await ctx.step(kind === 'drop-table' ? 'Drop a table' : kind, async () => {});
  return trainingSession(kind, { target: name });
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
