import { tmpdir } from 'node:os';
import type { ConsoleApi, DrillRequest, HealthFeed, PolicyForm, RestoreRequest, TargetForm, TargetRow, TargetSummary } from '../../screens/api.js';
import { formatDuration } from '../config/duration.js';
import { invalid } from '../errors.js';
import type { HealthReport } from '../health/report.js';
import { deferJob, mapJob, startJob, type Job } from '../ops/job.js';
import type { PitrReport } from '../ops/pitr.js';
import type { AmbiguousSecond } from '../binlog/window.js';
import { version } from '../version.js';
import { targetInputFromForm } from './target-form.js';

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

/** The modules a Targets row's summary needs, loaded once (the console asks early, after the catalog's). */
let summaryModules: Promise<[typeof import('../ops/health.js'), typeof import('../ops/pitr.js')]> | undefined;
export const loadSummaryModules = () => (summaryModules ??= Promise.all([import('../ops/health.js'), import('../ops/pitr.js')]));

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

/** How long Targets waits for a server's health before marking its row "no answer". */
export const SUMMARY_TIMEOUT_MS = 3000;
const NO_ANSWER = Symbol('no answer');

/** `p`, or a rejection with NO_ANSWER after `ms` (the work itself goes on and is ignored). */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(NO_ANSWER), ms);
  });
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * At most `size` of these at once, the rest queued in order: a window read runs pg_waldump, and a
 * fleet of targets asked at once must not start a hundred of them on two cores.
 */
class Slots {
  #free: number;
  readonly #queue: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((go) => this.#queue.push(go));
    try {
      return await fn();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
const windowSlots = new Slots(4);

/** Checks that are about the archiver (not backups): what the Targets row's "archiver" shows. */
const ARCHIVER_CHECKS = new Set(['server', 'archiving', 'rpo']);

/**
 * The engine as the console sees it: every screen action is one of these calls into src/ops.
 * The ops that start tools or talk to servers are imported on first use, so the console's first
 * frame does not wait for execa, pg and mysql2 to load (DESIGN: start fast over SSH).
 */
export function createConsoleApi(configDir: string): ConsoleApi {
  let commitCache: import('../ops/commit-moments.js').CommitMomentsCache | undefined;
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
      const targets = (await store()).list();
      // Copies' 3-2-1 only for targets that have copies (a lab target without any is not judged).
      const view = targets.some((t) => t.copies?.length) ? (await import('../copies/view.js')).copiesView : undefined;
      return targets.map((t) => {
        const row: TargetRow = { ...t };
        if (view && t.copies?.length) {
          try {
            row.copies321 = view(t).rule321.text;
          } catch {
            // An unreadable record leaves the line out; target show says why.
          }
        }
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
      const [{ sampleHealth }, { readWindow }] = await loadSummaryModules();
      // A host that never answers is said so after SUMMARY_TIMEOUT_MS, whatever the driver's own
      // connect timeout; its row does not wait for it, nor do the others (they are asked at once).
      const [health, window] = await Promise.allSettled([
        withDeadline(sampleHealth(configDir, name, { window: null, queryTimeoutMs: SUMMARY_TIMEOUT_MS }), SUMMARY_TIMEOUT_MS),
        windowSlots.run(() => readWindow(configDir, name)),
      ]);
      const out: TargetSummary = { archiver: '?' };
      if (health.status === 'rejected' && health.reason === NO_ANSWER) {
        out.archiver = 'no answer';
        out.reason = `no answer (timeout ${SUMMARY_TIMEOUT_MS / 1000}s)`;
      } else if (health.status === 'fulfilled') {
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
      const input = targetInputFromForm(form);
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
      const list = await (await mods()).readCatalog(configDir, name);
      const target = (await store()).get(name);
      if (!target.copies?.length) return list;
      // Where each backup is held, as the catalog command's HELD column says it.
      const [{ heldForCatalog }, { heldText }] = await Promise.all([import('../copies/view.js'), import('../copies/status.js')]);
      const held = heldForCatalog(target);
      return { ...list, backups: list.backups.map((b) => ({ ...b, held: heldText(held.get(b.id) ?? []) })) };
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
    async readCommitMoments(name, range) {
      commitCache ??= new (await import('../ops/commit-moments.js')).CommitMomentsCache(configDir);
      return commitCache.read(name, range);
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
