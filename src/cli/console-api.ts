import { tmpdir } from 'node:os';
import type { ConsoleApi, DrillRequest, HealthFeed, PolicyForm, RestoreRequest, TargetForm, TargetRow, TargetSummary } from '../../screens/api.js';
import { formatDuration } from '../config/duration.js';
import { invalid } from '../errors.js';
import type { HealthReport } from '../health/report.js';
import { deferJob, mapJob, startJob, type Job } from '../ops/job.js';
import type { PitrReport } from '../ops/pitr.js';
import type { AmbiguousSecond } from '../binlog/window.js';
import { version } from '../version.js';

/**
 * The config store and the catalog reader, loaded once on first use: `conf` alone (with ajv)
 * takes ~150 ms to import, which the console loads while Ink draws its first frame.
 */
let catalogModules: Promise<CatalogModules> | undefined;
interface CatalogModules {
  TargetStore: typeof import('../config/store.js').TargetStore;
  entryOf: typeof import('../ops/catalog.js').entryOf;
  readCatalog: typeof import('../ops/catalog.js').readCatalog;
  Repository: typeof import('../repo/repository.js').Repository;
}
export const loadCatalogModules = (): Promise<CatalogModules> =>
  (catalogModules ??= Promise.all([import('../config/store.js'), import('../ops/catalog.js'), import('../repo/repository.js')]).then(([store, catalog, repo]) => ({
    TargetStore: store.TargetStore,
    entryOf: catalog.entryOf,
    readCatalog: catalog.readCatalog,
    Repository: repo.Repository,
  })));

/**
 * A job that cannot even start (unknown target, a time that does not parse) still reports through
 * the same Job, so the screen shows its one sentence where the run would have been.
 */
function jobOrFailure<R>(start: () => Job<R>): Job<R> {
  try {
    return start();
  } catch (e) {
    return startJob<R>(() => Promise.reject(e));
  }
}

const lazy = deferJob;

/** Checks that are about the archiver (not backups): what the Targets row's "archiver" shows. */
const ARCHIVER_CHECKS = new Set(['server', 'archiving', 'rpo']);

function formField(v: string): string | undefined {
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * The engine as the console sees it: every screen action is one of these calls into src/ops.
 * The ops that start tools or talk to servers are imported on first use, so the console's first
 * frame does not wait for execa, pg and mysql2 to load (DESIGN: start fast over SSH).
 */
export function createConsoleApi(configDir: string): ConsoleApi {
  const pitr = (name: string, req: RestoreRequest, dryRun: boolean): Job<PitrReport> =>
    lazy(async () => {
      const [{ startPitrRestore }, { parseRestoreTarget }, training] = await Promise.all([
        import('../ops/pitr.js'),
        import('../pitr/time.js'),
        import('../ops/training.js'),
      ]);
      const request = {
        target: parseRestoreTarget({ to: req.to }),
        into: req.into,
        port: req.port,
        ...(req.backup !== undefined ? { backup: req.backup } : {}),
        ...(req.second !== undefined ? { second: req.second } : {}),
      };
      const job = startPitrRestore(configDir, name, { ...request, dryRun });
      if (dryRun && req.second === undefined) {
        // A target second that holds several transactions is a choice to offer, not a refusal:
        // the plan for none of them, with the transactions listed (the Restore screen asks).
        return startJob(async () => {
          try {
            return await job.result;
          } catch (e) {
            const listed = (e as { detail?: { ambiguousSecond?: AmbiguousSecond } }).detail?.ambiguousSecond;
            if (!listed) throw e;
            const none = await startPitrRestore(configDir, name, { ...request, second: 'exclusive', dryRun: true }).result;
            return { ...none, chooseSecond: listed };
          }
        });
      }
      if (dryRun) return job;
      // A restore of a target in training is the trainee's answer: the session records it.
      return mapJob(job, (r) => {
        training.recordTrainingRestore(configDir, name, r, req.to);
        return r;
      });
    });
  const mods = loadCatalogModules;
  const store = async () => new (await mods()).TargetStore(configDir);
  return {
    configDir,
    version: version(),
    tempDir: tmpdir(),
    async listTargets(): Promise<TargetRow[]> {
      const { Repository, entryOf } = await mods();
      return (await store()).list().map((t) => {
        const row: TargetRow = { ...t };
        const newest = new Repository(t.repo).catalog().manifests.map((m) => entryOf(m)).find((e) => e.status === 'complete');
        if (newest) {
          const at = Date.parse(newest.startedAt) + (newest.durationSeconds ?? 0) * 1000;
          row.newestBackupAt = new Date(at).toISOString();
          row.newestBackupAge = formatDuration((Date.now() - at) / 1000);
        }
        return row;
      });
    },
    async targetSummary(name): Promise<TargetSummary> {
      const [{ sampleHealth }, { readWindow }] = await Promise.all([import('../ops/health.js'), import('../ops/pitr.js')]);
      const [health, window] = await Promise.allSettled([sampleHealth(configDir, name, { window: null, queryTimeoutMs: 3000 }), readWindow(configDir, name)]);
      const out: TargetSummary = { archiver: '?' };
      if (health.status === 'fulfilled') {
        const checks = health.value.checks.filter((c) => ARCHIVER_CHECKS.has(c.name));
        const worstCheck = checks.find((c) => c.status === 'CRIT') ?? checks.find((c) => c.status === 'WARN') ?? checks.find((c) => c.name === 'archiving') ?? checks[0];
        if (worstCheck) {
          out.archiver = worstCheck.status;
          out.reason = worstCheck.reason;
        }
      }
      if (window.status === 'fulfilled' && window.value.from && window.value.to) {
        const span = (Date.parse(window.value.to) - Date.parse(window.value.from)) / 1000;
        out.window = `${formatDuration(span)}${window.value.gaps.length ? ' gap!' : ''}`;
      } else if (window.status === 'fulfilled') {
        out.window = 'none';
      }
      return out;
    },
    async saveTarget(form: TargetForm, original?: string) {
      const input = {
        name: formField(form.name),
        engine: formField(form.engine),
        host: formField(form.host),
        port: formField(form.port),
        user: formField(form.user),
        dbname: formField(form.dbname),
        repo: formField(form.repo),
        passwordEnv: formField(form.passwordEnv),
        rto: formField(form.rto),
        rpo: formField(form.rpo),
        method: formField(form.method),
      };
      const s = await store();
      // A method with a tool of its own (pgBackRest) is set up as target add sets it up.
      const { startAddTarget, startEditTarget } = await import('../ops/targets.js');
      if (original === undefined) return input.method === undefined ? s.add(input) : (await startAddTarget(configDir, input).result).target;
      const before = s.get(original);
      if (input.name !== original) {
        throw invalid(`A target cannot be renamed here; add "${input.name ?? ''}" as a new target and remove "${original}".`, { field: 'name' });
      }
      // Fields the form does not show (checks, health thresholds, a password file) are kept.
      const kept = { ...before, ...input, passwordFile: before.passwordFile, health: before.health, checks: before.checks, sandbox: before.sandbox };
      if (kept.method === undefined) return s.update(original, { ...kept, processMax: undefined, checkpoint: undefined });
      return (await startEditTarget(configDir, original, kept).result).target;
    },
    async removeTarget(name) {
      return (await store()).remove(name);
    },
    testTarget(name) {
      return lazy(async () => {
        const { testTarget } = await import('../ops/targets.js');
        const target = (await store()).get(name);
        return startJob((ctx) => ctx.step(`connect to ${target.host}:${target.port}`, () => testTarget(target)));
      });
    },
    startSandbox() {
      return lazy(async () => mapJob((await import('../ops/sandbox.js')).startNamedSandbox(configDir, 'postgres'), (r) => r.target));
    },
    async listBackups(name) {
      return (await mods()).readCatalog(configDir, name);
    },
    async readManifest(name, id) {
      const target = (await store()).get(name);
      return new (await mods()).Repository(target.repo).readManifest(id);
    },
    startBackup(name, kind) {
      // Interactive: someone is watching, so a fast checkpoint (DESIGN: "Restore pitfalls").
      return lazy(async () => (await import('../ops/backup.js')).startBackup(configDir, name, { kind, type: 'full', checkpoint: 'fast' }));
    },
    startVerify(name, id, restore) {
      return lazy(async () => (await import('../ops/verify.js')).startVerify(configDir, name, { backup: id, restore }));
    },
    startVerifyRepository(name) {
      return lazy(async () => (await import('../ops/verify-repository.js')).startVerifyRepository(configDir, name));
    },
    startLogicalRestore(name, req) {
      return lazy(async () => (await import('../ops/restore.js')).startLogicalRestore(configDir, name, req));
    },
    async readWindow(name) {
      const { target: _t, ...w } = await (await import('../ops/pitr.js')).readWindow(configDir, name);
      return w;
    },
    planRestore: (name, req) => pitr(name, req, true),
    startRestore: (name, req) => pitr(name, req, false),
    async freePort() {
      return (await import('../sandbox/ports.js')).freePort();
    },
    async listRestoredServers(name) {
      return (await import('../ops/restored-servers.js')).listRestoredServers(configDir, name);
    },
    async stopRestoredServer(name) {
      return (await import('../ops/restored-servers.js')).stopRestoredServer(configDir, name);
    },
    startDrill(name, req: DrillRequest) {
      return lazy(async () => {
        const [{ startDrill }, { parseRestoreTarget }] = await Promise.all([import('../ops/drill.js'), import('../pitr/time.js')]);
        return startDrill(configDir, name, {
          to: parseRestoreTarget({ to: req.to }),
          ...(req.rto ? { rto: req.rto } : {}),
          ...(req.rpo ? { rpo: req.rpo } : {}),
        });
      });
    },
    async listDrills(name) {
      return (await import('../ops/drill-history.js')).listDrills(configDir, name);
    },
    openHealth(name): HealthFeed {
      let sampler: Promise<{ sample(): Promise<HealthReport>; close(): Promise<void> }> | undefined;
      const open = () => (sampler ??= import('../ops/health.js').then((m) => m.openHealthSampler(configDir, name)));
      return {
        sample: async () => (await open()).sample(),
        close: async () => {
          if (sampler) await (await sampler).close();
        },
      };
    },
    async readStrategy(name) {
      return (await import('../ops/strategy-view.js')).readStrategyView(configDir, name);
    },
    async readForecast(name) {
      return (await import('../ops/plan.js')).strategyPlan(configDir, name);
    },
    async savePolicy(name, form: PolicyForm) {
      const [{ setPolicy, changesFromForm }, { policyFieldLabel }] = await Promise.all([import('../ops/policy.js'), import('../config/policy.js')]);
      // The same merge and validation as `policy set`; sentences name the form's fields.
      setPolicy(configDir, name, changesFromForm(form), policyFieldLabel(''));
    },
    async readTraining(name) {
      return (await import('../ops/training.js')).readTrainingSession(configDir, name);
    },
    startDisaster(name, kind) {
      return lazy(async () => (await import('../ops/training.js')).startDisaster(configDir, name, kind));
    },
    scoreTraining(name) {
      return lazy(async () => (await import('../ops/training.js')).startScore(configDir, name));
    },
    repairTraining(name) {
      return lazy(async () => (await import('../ops/training.js')).startRepair(configDir, name));
    },
    endTraining(name) {
      return lazy(async () => (await import('../ops/training.js')).startEndTraining(configDir, name));
    },
  };
}
