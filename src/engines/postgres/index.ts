/**
 * PostgreSQL behind the engine contract (src/engines/contract.ts). Every member loads its own
 * implementation on first use, so asking the registry for this engine costs one small module.
 */
import type { Target } from '../../config/target.js';
import type { RecoverableWindow } from '../../pitr/window.js';
import type { EngineContext } from '../context.js';
import type { ArchivingPlan, ArchivingRequest, DrillEngine, EngineMethod, EngineModule, PitrReport, PitrRequest } from '../contract.js';
import { pgbackrestFilesSync } from './pgbackrest/files.js';
import { invalid } from '../../errors.js';
import type { StreamSink } from './stream.js';
import type { PgbackrestTakeStart } from './pgbackrest/method.js';

/**
 * A PostgreSQL method row: the contract's members, plus what differs inside this engine when the
 * method keeps its own archive (the window, point-in-time restore and archive_command read it).
 */
interface PgMethod extends EngineMethod {
  readWindow?(target: Target): Promise<RecoverableWindow>;
  pointInTimeRestore?(ctx: EngineContext, target: Target, req: PitrRequest): Promise<PitrReport>;
  enableArchiving?(target: Target, req: ArchivingRequest): Promise<ArchivingPlan>;
  drillPick?: DrillEngine['pick'];
  /** Where `dbdrill stream`'s completed segments go, when not into dbdrill's own wal/. */
  streamSink?(target: Target): Promise<StreamSink>;
}

const pgbr = () => import('./pgbackrest/method.js');

const methods: Record<string, PgMethod> = {
  native: {
    name: 'native',
    backupTypes: { logical: ['full'], physical: ['full'] },
    refuseType: (target, _kind, type) =>
      `--type ${type} needs a method that takes ${type === 'diff' ? 'differential' : 'incremental'} backups; target "${target.name}" uses pg_basebackup, which takes full ones only: drop --type, or switch the target with dbdrill target edit ${target.name} --method pgbackrest.`,
    async backup(ctx, target, probe, dir, req, recordTool) {
      return req.kind === 'logical'
        ? (await import('./logical-backup.js')).pgLogicalBackup(ctx, target, probe, dir, { jobs: req.jobs, digests: req.digests, recordTool, sink: req.sink })
        : (await import('./physical-backup.js')).pgPhysicalBackup(ctx, target, probe, dir, { checkpoint: req.checkpoint, recordTool, sink: req.sink });
    },
  },
  // pgBackRest keeps its own repository (<repo>/pgbackrest) and catalog; logical backups stay pg_dump's.
  pgbackrest: {
    name: 'pgbackrest',
    backupTypes: { logical: ['full'], physical: ['full', 'diff', 'incr'] },
    async backup(ctx, target, probe, dir, req, recordTool) {
      return (await import('./logical-backup.js')).pgLogicalBackup(ctx, target, probe, dir, { jobs: req.jobs, digests: req.digests, recordTool, sink: req.sink });
    },
    refuseType: (target, kind, type) => `A ${kind} backup is always full; drop --type ${type} or use --kind physical (pgBackRest) on target "${target.name}".`,
    ownCatalog: {
      kinds: ['physical'],
      prepareTake: async (target) => {
        // `pgbackrest version` runs while the method's modules load, not after.
        void import('../../runner/tools.js').then((t) => t.findTool('pgbackrest')).catch(() => undefined);
        return (await pgbr()).preparePgbackrestTake(target);
      },
      take: async (ctx, target, probe, req, prepared) => (await pgbr()).takePgbackrestBackup(ctx, target, probe, req, prepared as Promise<PgbackrestTakeStart> | undefined),
      list: async (target, signal) => (await pgbr()).listPgbackrestBackups(target, signal),
      expire: async (ctx, target, retention, dryRun) => (await pgbr()).expirePgbackrest(ctx, target, retention, dryRun),
      verify: async (ctx, target, id, opts) => (await import('./pgbackrest/verify-set.js')).verifyPgbackrestSet(ctx, target, id, opts),
    },
    setUp: async (ctx, target) => (await pgbr()).setUpPgbackrest(ctx, target),
    files: (target) => pgbackrestFilesSync(target),
    copiedDirs: ['pgbackrest'],
    fromCopy: async (target, repo, owner) => (await import('./pgbackrest/setup.js')).preparePgbackrestCopy(target, repo, owner),
    verifyRepository: async (ctx, target) => (await pgbr()).verifyPgbackrest(ctx, target),
    readWindow: async (target) => {
      const { pgbackrestOf } = await pgbr();
      return (await (await import('./pgbackrest/window.js')).readPgbackrestArchive(await pgbackrestOf(target), target.name)).window;
    },
    pointInTimeRestore: async (ctx, target, req) => (await import('./pgbackrest/pitr.js')).runPgbackrestPitr(ctx, target, req),
    drillPick: async (ctx, target, requested, opts) => (await import('./pgbackrest/drill.js')).pgbackrestDrillPick(ctx, target, requested, opts),
    streamSink: async (target) => (await import('./pgbackrest/stream.js')).pgbackrestStreamSink(target),
    enableArchiving: async (target, req) => {
      const { pgEnableArchiving } = await import('./archiving.js');
      return (await pgbr()).enablePgbackrestArchiving(target, req, (command) => pgEnableArchiving(target, req, { command }));
    },
  },
};

function methodOf(target: Target): PgMethod {
  const name = target.method ?? 'native';
  const m = methods[name];
  if (!m) throw invalid(`Target "${target.name}" names the method "${name}", which PostgreSQL does not have; use one of ${Object.keys(methods).join(', ')}.`);
  return m;
}

export const postgresEngine: EngineModule = {
  engine: 'postgres',
  label: 'PostgreSQL',
  methods,
  methodOf,
  probe: async (target) => (await import('./probe.js')).probePostgres(target),
  verifyStructure: async (ctx, m, dir) => (await import('./restore-check.js')).verifyStructure(ctx, m, dir),
  restoreCheck: async (ctx, target, m, dir) => (await import('./restore-check.js')).restoreCheck(ctx, target, m, dir),
  logicalRestore: async (ctx, target, m, dir, req) => (await import('./logical-restore-report.js')).pgLogicalRestoreReport(ctx, target, m, dir, req),
  readWindow: async (target) => (await methodOf(target).readWindow?.(target)) ?? (await (await import('./pitr.js')).readArchive(target)).window,
  commitMoments: async (target, range, signal) => (await import('./commits.js')).pgCommitMoments(target, range, signal),
  pointInTimeRestore: async (ctx, target, req) => (await methodOf(target).pointInTimeRestore?.(ctx, target, req)) ?? (await import('./pitr.js')).runPitrRestore(ctx, target, req),
  enableArchiving: async (target, req) => (await methodOf(target).enableArchiving?.(target, req)) ?? (await import('./archiving.js')).pgEnableArchiving(target, req),
  healthSampler: async (target, opts) => (await import('./health.js')).pgHealthSampler(target, opts),
  archive: async () => (await import('./archive.js')).pgArchive,
  drill: {
    replayStep: 'replay WAL',
    pick: async (ctx, target, requested, opts) => (await methodOf(target).drillPick?.(ctx, target, requested, opts)) ?? (await import('./drill.js')).pgDrill.pick(ctx, target, requested, opts),
  },
  training: {
    connect: async (target) => (await import('./training.js')).connectTraining(target),
  },
  stream: {
    prepare: async (target, opts) => {
      const m = methodOf(target);
      return (await import('./stream.js')).pgStream.prepare(target, opts, m.streamSink?.bind(m));
    },
  },
  sandbox: {
    server: 'PostgreSQL',
    account: 'postgres',
    start: async (opts) => (await import('../../sandbox/index.js')).startPostgresSandbox(opts),
    // WAL goes into the repository through wal-push, so window and point-in-time restore work on it at once.
    async startTraining({ port, repo, signal }) {
      const [{ startPostgresSandbox }, { archiveCommand }] = await Promise.all([import('../../sandbox/index.js'), import('../../wal/command.js')]);
      return startPostgresSandbox({ port, sampleData: true, archive: { command: archiveCommand(repo) }, detach: true, signal, settings: { archive_timeout: '60s' } });
    },
    async prepareRepo(repo, owner) {
      (await import('../../wal/layout.js')).prepareWalDir(repo, owner);
    },
  },
};
