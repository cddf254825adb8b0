/**
 * PostgreSQL behind the engine contract (src/engines/contract.ts). Every member loads its own
 * implementation on first use, so asking the registry for this engine costs one small module.
 */
import type { Target } from '../../config/target.js';
import type { EngineMethod, EngineModule } from '../contract.js';
import { invalid } from '../../errors.js';

const methods: Record<string, EngineMethod> = {
  native: {
    name: 'native',
    backupTypes: { logical: ['full'], physical: ['full'] },
    async backup(ctx, target, probe, dir, req, recordTool) {
      return req.kind === 'logical'
        ? (await import('./logical-backup.js')).pgLogicalBackup(ctx, target, probe, dir, { jobs: req.jobs, digests: req.digests, recordTool })
        : (await import('./physical-backup.js')).pgPhysicalBackup(ctx, target, probe, dir, { checkpoint: req.checkpoint, recordTool });
    },
  },
  // The adapter (src/engines/postgres/pgbackrest) is built; dbdrill backup does not reach it yet.
  pgbackrest: {
    name: 'pgbackrest',
    backupTypes: { logical: [], physical: ['full', 'diff', 'incr'] },
    unwired: 'pgBackRest backups are not wired into dbdrill backup yet; take a native backup.',
  },
};

export const postgresEngine: EngineModule = {
  engine: 'postgres',
  label: 'PostgreSQL',
  methods,
  methodOf(target: Target) {
    const name = (target as Target & { method?: string }).method ?? 'native';
    const m = methods[name];
    if (!m) throw invalid(`Target "${target.name}" names the method "${name}", which PostgreSQL does not have; use one of ${Object.keys(methods).join(', ')}.`);
    return m;
  },
  probe: async (target) => (await import('./probe.js')).probePostgres(target),
  verifyStructure: async (ctx, m, dir) => (await import('./restore-check.js')).verifyStructure(ctx, m, dir),
  restoreCheck: async (ctx, target, m, dir) => (await import('./restore-check.js')).restoreCheck(ctx, target, m, dir),
  logicalRestore: async (ctx, target, m, dir, req) => (await import('./logical-restore-report.js')).pgLogicalRestoreReport(ctx, target, m, dir, req),
  readWindow: async (target) => (await (await import('./pitr.js')).readArchive(target)).window,
  pointInTimeRestore: async (ctx, target, req) => (await import('./pitr.js')).runPitrRestore(ctx, target, req),
  enableArchiving: async (target, req) => (await import('./archiving.js')).pgEnableArchiving(target, req),
  healthSampler: async (target, opts) => (await import('./health.js')).pgHealthSampler(target, opts),
  archive: async () => (await import('./archive.js')).pgArchive,
  drill: {
    replayStep: 'replay WAL',
    pick: async (ctx, target, requested, opts) => (await import('./drill.js')).pgDrill.pick(ctx, target, requested, opts),
  },
  training: {
    connect: async (target) => (await import('./training.js')).connectTraining(target),
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
