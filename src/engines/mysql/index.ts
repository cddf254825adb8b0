/**
 * MySQL/MariaDB behind the engine contract (src/engines/contract.ts). Every member loads its own
 * implementation on first use, so asking the registry for this engine costs one small module.
 */
import type { Target } from '../../config/target.js';
import type { EngineMethod, EngineModule } from '../contract.js';
import { invalid } from '../../errors.js';


const methods: Record<string, EngineMethod> = {
  native: {
    name: 'native',
    // Physical diffs and incrs are mariadb-backup --incremental-basedir chains that dbdrill links (chain*.ts).
    backupTypes: { logical: ['full'], physical: ['full', 'diff', 'incr'] },
    async backup(ctx, target, probe, dir, req, recordTool) {
      const sink = req.sink?.encryptTo ? { sink: req.sink } : {};
      if (req.kind === 'logical') return (await import('./logical-backup.js')).myLogicalBackup(ctx, target, probe, dir, { jobs: req.jobs, recordTool, ...sink });
      const base = req.base && req.type !== 'full' ? { base: { ...req.base, type: req.type } } : {};
      return (await import('./physical-backup.js')).myPhysicalBackup(ctx, target, probe, dir, { jobs: req.jobs, recordTool, ...base, ...sink });
    },
    async chainBase(target, manifests, type, probe) {
      return (await import('./chain.js')).chainBaseFor(manifests, type, { target: target.name, serverVersion: probe.serverVersion });
    },
  },
};

export const mysqlEngine: EngineModule = {
  engine: 'mysql',
  label: 'MySQL/MariaDB',
  methods,
  methodOf(target: Target) {
    const name = (target as Target & { method?: string }).method ?? 'native';
    const m = methods[name];
    if (!m) throw invalid(`Target "${target.name}" names the method "${name}", which MySQL/MariaDB does not have; use one of ${Object.keys(methods).join(', ')}.`);
    return m;
  },
  probe: async (target) => (await import('./probe.js')).probeMysql(target),
  verifyStructure: async (ctx, m, dir) => (await import('./restore-check.js')).verifyStructure(ctx, m, dir),
  restoreCheck: async (ctx, target, m, dir) => (await import('./restore-check.js')).restoreCheck(ctx, target, m, dir),
  logicalRestore: async (ctx, target, m, dir, req) => (await import('./logical-restore-report.js')).mysqlLogicalRestore(ctx, target, m, dir, req),
  readWindow: async (target, signal) => (await (await import('./plan.js')).readMysqlArchive(target, signal)).window,
  commitMoments: async (target, range, signal) => (await import('./commits.js')).mysqlCommitMoments(target, range, signal),
  pointInTimeRestore: async (ctx, target, req) => (await import('./pitr.js')).runMysqlPitrRestore(ctx, target, req),
  // MariaDB's binary log is turned on in the server's configuration; binlog-sync then copies it.
  enableArchiving: async () => {
    throw invalid(`archiving enable is for PostgreSQL targets; for MySQL/MariaDB turn on log_bin in the server's configuration.`);
  },
  healthSampler: async (target, opts) => (await import('./health.js')).mysqlHealthSampler(target, opts),
  archive: async () => (await import('./archive.js')).mysqlArchive,
  drill: {
    replayStep: 'replay binlogs',
    pick: async (ctx, target, requested, opts) => (await import('./drill.js')).mysqlDrill.pick(ctx, target, requested, opts),
  },
  // binlog-sync pulls the binary logs over the replication protocol; the server pushes nothing.
  archivePull: {
    list: async (target, opts) => (await import('./binlog-server.js')).listServerLogFiles(target, opts),
    fetcher: async (probe) => (await import('./binlog-server.js')).binlogFetcher(probe),
    sealedFetcher: async (probe) => (await import('./binlog-sealed-fetch.js')).sealedBinlogFetcher(probe),
  },
  sandbox: {
    server: 'MariaDB',
    account: 'mysql',
    start: async (opts) => (await import('../../sandbox/index.js')).startMariadbSandbox(opts),
    async startTraining({ port, signal }) {
      return (await import('../../sandbox/index.js')).startMariadbSandbox({ port, sampleData: true, binlog: true, detach: true, signal });
    },
    // Its binlogs are copied into the repository by binlog-sync, which makes its own directory.
    async prepareRepo() {},
  },
};
