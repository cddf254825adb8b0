import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import { parseDuration } from '../config/duration.js';
import type { EngineContext } from '../engines/context.js';
import type { DrillHooks, DrillScratch } from '../engines/contract.js';
import { engineEntry, engineFor, secondNotFor } from '../engines/registry.js';
import { DbdrillError, invalid } from '../errors.js';
import { APPLY_STEP, type DrillCheckResult, type DrillReport, type DrillStep } from '../drill/report.js';
import { markCorrupt } from '../repo/backup-files.js';
import { describeMismatch, verifyFiles } from '../repo/checksum.js';
import { writeFileAtomic } from '../repo/atomic.js';
import type { Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { fetchTargetCopy } from '../copies/restore-from.js';
import type { RestoreTarget } from '../pitr/time.js';
import type { SecondChoice } from '../binlog/window.js';
import { startJob, type Job } from './job.js';

export interface DrillOptions {
  to?: RestoreTarget;
  /** MySQL/MariaDB time targets: replay every transaction stamped the target's second, or none. */
  second?: SecondChoice;
  rto?: string;
  rpo?: string;
  keep?: boolean;
  backup?: string;
  /** Restore from this copy alone, as if the primary repository were lost (its fetch is part of the RTO). */
  from?: { copy: string; identity?: string };
}

export function drillsDir(repo: string): string {
  return join(repo, 'drills');
}

export function startDrill(configDir: string, name: string, opts: DrillOptions, signal?: AbortSignal): Job<DrillReport> {
  const target = new TargetStore(configDir).get(name);
  return startJob((ctx) => runDrill(ctx, target, opts), signal);
}

/**
 * A restore drill, one pipeline for every engine: pick a backup (the one a point-in-time restore
 * to the target would use), check its files, provision a scratch instance on its own port
 * (archiving off), restore the base into it, replay the archive to the target, verify, measure RTO
 * and RPO, tear down. The engine (src/engines/contract.ts DrillRun) does each step's work; every
 * step is timed and recorded here, and the report is written even when a step fails or Ctrl-C
 * stops it.
 */
export async function runDrill(ctx: EngineContext, target: Target, opts: DrillOptions): Promise<DrillReport> {
  const refused = opts.second !== undefined ? secondNotFor(target) : undefined;
  if (refused) throw invalid(refused);
  const engine = await engineFor(target);
  const requested: RestoreTarget = opts.to ?? { kind: 'latest' };
  const objectives = drillObjectives(target, opts);
  const t0 = performance.now();
  // The report stays with the target's own repository; with --from, everything restored is read
  // from the copy fetched into a temp repository. Engines that link their own chains apply a diff
  // or incr's changes as a step of its own (timed apart from the copy).
  const chains = engineEntry(target.engine).ownChains;
  const rec = openDrillReport(ctx, target, requested, [...(opts.from ? ['fetch copy'] : []), 'pick backup', 'verify backup files', 'provision scratch instance', 'restore base', ...(chains ? [APPLY_STEP] : []), engine.drill.replayStep, 'verify', 'measure', 'tear down']);
  const { report, step, skip } = rec;
  const { rtoLimit, rpoLimit } = objectives;

  let scratch: DrillScratch | undefined;
  let transferSeconds = 0;
  let replaySeconds = 0;
  let applySeconds: number | undefined;
  const timed = (name: string, add: (s: number) => void) =>
    async <T>(fn: () => Promise<T>, detail?: (v: T) => string | undefined, bytes?: (v: T) => number | undefined): Promise<T> => {
      const st = performance.now();
      try {
        return await step(name, fn, detail, bytes);
      } finally {
        add((performance.now() - st) / 1000);
      }
    };
  const hooks: DrillHooks = {
    restoreBase: timed('restore base', (s) => (transferSeconds += s)),
    replay: timed(engine.drill.replayStep, (s) => (replaySeconds = s)),
    applyIncrementals: timed(APPLY_STEP, (s) => (applySeconds = s)),
    skip,
  };
  let fetched: { repo: string; cleanup: () => void } | undefined;
  try {
    let source = target;
    if (opts.from) {
      const { copy, identity } = opts.from;
      const f = await timed('fetch copy', (s) => (transferSeconds += s))(
        async () => (fetched = await fetchTargetCopy(target, copy, identity, (text) => ctx.emit({ type: 'log', level: 'info', text }), ctx.signal)),
        (x) => `${x.files} file(s) of copy ${copy}, each checked against its sha256`,
        (x) => x.bytes,
      );
      report.from = { copy, files: f.files, bytes: f.bytes, seconds: f.seconds };
      source = { ...target, repo: f.repo };
    }
    const repo = new Repository(source.repo);
    const run = await step('pick backup', () => engine.drill.pick(ctx, source, requested, { ...(opts.backup !== undefined ? { backup: opts.backup } : {}), ...(opts.second !== undefined ? { second: opts.second } : {}) }), (r) => r.detail);
    const m = run.backup;
    report.backup = m.id;
    report.kind = m.kind;
    const backupDir = repo.backupDir(m.id);
    await step('verify backup files', async () => {
      const bad = await verifyFiles(backupDir, m.files);
      if (bad.length > 0) {
        markCorrupt(repo, m.id, `${bad.map(describeMismatch).join('; ')} (found by a drill)`);
        throw new DbdrillError('failed', `backup ${m.id} is damaged: ${bad.map((b) => `${b.path} ${b.problem === 'checksum' ? 'does not match its checksum' : `is ${b.problem}`}`).join('; ')}`);
      }
      const checked = await run.checkFiles?.(backupDir);
      return checked ?? `${m.files.length} file(s) match their checksums`;
    }, (d) => d);

    const s = await step('provision scratch instance', () => run.provision(hooks, opts.keep === true), (x) => x.detail);
    scratch = s;
    report.scratch = { dir: s.dir, dataDir: s.dataDir, port: s.port };
    await run.restoreBase(hooks);
    await run.replay(hooks);

    const targetTime = requested.kind === 'time' ? requested.at : new Date();
    await verifyStep(rec, ctx, m, () => run.verifyInstance(target.checks ?? [], targetTime));
    const rtoSeconds = (performance.now() - t0) / 1000;

    await step('measure', async () => {
      report.rto = { seconds: rtoSeconds, transferSeconds, replaySeconds, ...(applySeconds !== undefined ? { applySeconds } : {}) };
      if (rtoLimit !== undefined) Object.assign(report.rto, { objectiveSeconds: rtoLimit, ok: rtoSeconds <= rtoLimit });
      report.rpo = run.rpo(requested);
      if (rpoLimit !== undefined) Object.assign(report.rpo, { objectiveSeconds: rpoLimit, ok: report.rpo.seconds <= rpoLimit });
    }, () => `RTO ${report.rto!.seconds.toFixed(1)} s, RPO ${report.rpo!.seconds.toFixed(1)} s`);

    judgeDrill(report, objectives);
  } catch (e) {
    failDrill(rec, ctx, e);
  } finally {
    await closeDrill(rec, scratch, opts.keep === true);
    fetched?.cleanup();
  }
  return report;
}

/** A drill's report as it is being written: its steps, each timed and saved as it changes. */
export interface DrillRecorder {
  readonly report: DrillReport;
  save(): void;
  stepOf(name: string): DrillStep;
  /**
   * Runs fn as the named step: running, then done (with the detail and the bytes it moved) or
   * failed (the drill's error).
   */
  step<T>(name: string, fn: () => Promise<T>, detail?: (v: T) => string | undefined, bytes?: (v: T) => number | undefined): Promise<T>;
  /** As step, but runs after Ctrl-C too: the tear-down. */
  finalStep<T>(name: string, fn: () => Promise<T>, detail?: (v: T) => string | undefined, bytes?: (v: T) => number | undefined): Promise<T>;
  skip(name: string, why: string): void;
}

/**
 * A drill id that sorts by time and names no existing report: drills started in the same second
 * (two operators, a cron job and a console) get -2, -3… instead of overwriting each other. The
 * file is created exclusively, so the id is claimed before the first save.
 */
export function freeDrillId(repo: string, at: Date): string {
  const base = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  mkdirSync(drillsDir(repo), { recursive: true, mode: 0o700 });
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    try {
      closeSync(openSync(join(drillsDir(repo), `${id}.json`), 'wx', 0o600));
      return id;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Creates <repo>/drills/<id>.json with every step pending; the engines' drills fill it in. */
export function openDrillReport(ctx: EngineContext, target: Target, requested: RestoreTarget, steps: string[]): DrillRecorder {
  const started = new Date();
  const report: DrillReport = {
    formatVersion: 1,
    id: freeDrillId(target.repo, started),
    target: target.name,
    engine: target.engine,
    status: 'running',
    startedAt: started.toISOString(),
    requested: requested.kind === 'time' ? requested.at.toISOString() : requested.kind === 'latest' ? 'latest' : `${requested.kind} ${Object.values(requested)[1]}`,
    steps: steps.map((name) => ({ name, status: 'pending' as const })),
    checks: [],
  };
  const file = join(drillsDir(target.repo), `${report.id}.json`);
  const save = () => writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
  save();
  // The whole pipeline up front, so a watcher (the console) can show what is still to come.
  for (const s of report.steps) ctx.emit({ type: 'step', step: s.name, status: 'pending' });

  const stepOf = (name: string) => report.steps.find((s) => s.name === name)!;
  async function finalStep<T>(name: string, fn: () => Promise<T>, detail?: (v: T) => string | undefined, bytes?: (v: T) => number | undefined): Promise<T> {
    const s: DrillStep = stepOf(name);
    s.status = 'running';
    s.startedAt = new Date().toISOString();
    const st = performance.now();
    save();
    ctx.emit({ type: 'step', step: name, status: 'running' });
    try {
      const v = await fn();
      s.status = 'done';
      s.seconds = (performance.now() - st) / 1000;
      s.finishedAt = new Date().toISOString();
      const d = detail?.(v);
      if (d) s.detail = d;
      const b = bytes?.(v);
      if (b !== undefined) s.bytes = b;
      ctx.emit({ type: 'step', step: name, status: 'done', ...(d ? { detail: d } : {}), ...(b !== undefined ? { bytes: b } : {}) });
      save();
      return v;
    } catch (e) {
      s.status = 'failed';
      s.seconds = (performance.now() - st) / 1000;
      s.finishedAt = new Date().toISOString();
      s.detail = (e as Error).message;
      ctx.emit({ type: 'step', step: name, status: 'failed', detail: s.detail });
      report.failedStep = name;
      report.error = s.detail;
      save();
      throw e;
    }
  }
  // A step that would start after Ctrl-C never does: an interrupted drill must not go on to pass.
  const step = <T>(name: string, fn: () => Promise<T>, detail?: (v: T) => string | undefined, bytes?: (v: T) => number | undefined): Promise<T> =>
    ctx.signal.aborted ? Promise.reject(new DbdrillError('aborted', `interrupted (${String(ctx.signal.reason ?? 'cancelled')}) before ${name}`)) : finalStep(name, fn, detail, bytes);
  const skip = (name: string, why: string) => {
    Object.assign(stepOf(name), { status: 'skipped', detail: why });
    ctx.emit({ type: 'step', step: name, status: 'skipped', detail: why });
  };
  return { report, save, stepOf, step, finalStep, skip };
}

export interface DrillObjectives {
  rtoObjective?: string;
  rpoObjective?: string;
  rtoLimit?: number;
  rpoLimit?: number;
}

/** The RTO/RPO to hold the drill to: the command's, else the target's. */
export function drillObjectives(target: Target, opts: DrillOptions): DrillObjectives {
  const rtoObjective = opts.rto ?? target.rto;
  const rpoObjective = opts.rpo ?? target.rpo;
  return {
    ...(rtoObjective ? { rtoObjective, rtoLimit: parseDuration(rtoObjective, '--rto') } : {}),
    ...(rpoObjective ? { rpoObjective, rpoLimit: parseDuration(rpoObjective, '--rpo') } : {}),
  };
}

/**
 * The verify step: every check's result goes into the report; any that failed fails the step,
 * naming each with what it expected and what it found. An instance that fails verification is
 * not a recovery, so there is no RTO to measure for it.
 */
export async function verifyStep(rec: DrillRecorder, ctx: EngineContext, m: Manifest, run: () => Promise<DrillCheckResult[]>): Promise<void> {
  const { report } = rec;
  await rec.step('verify', async () => {
    const checks = await run();
    report.checks = checks;
    const unchecked = notComparedNote(m, checks);
    if (unchecked) {
      report.notes = [...(report.notes ?? []), unchecked];
      ctx.emit({ type: 'log', level: 'info', text: unchecked });
    }
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) throw new DbdrillError('failed', `verification failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
    return checks;
  }, (c) => `${c.length}/${c.length} check(s) passed${report.notes?.length ? `; ${report.notes.join('; ')}` : ''}`);
}

/** Passed when the measured RTO and RPO meet their objectives (verification already passed). */
export function judgeDrill(report: DrillReport, o: DrillObjectives): void {
  const objectivesMet = report.rto!.ok !== false && report.rpo!.ok !== false;
  report.status = objectivesMet ? 'passed' : 'failed';
  if (!objectivesMet) {
    report.error = [
      report.rto!.ok === false ? `RTO ${report.rto!.seconds.toFixed(1)} s exceeds the objective ${o.rtoObjective}` : '',
      report.rpo!.ok === false ? `RPO ${report.rpo!.seconds.toFixed(1)} s exceeds the objective ${o.rpoObjective}` : '',
    ].filter(Boolean).join('; ');
  }
}

export function failDrill(rec: DrillRecorder, ctx: EngineContext, e: unknown): void {
  const { report } = rec;
  report.status = ctx.signal.aborted ? 'aborted' : 'failed';
  report.error ??= (e as Error).message;
  if (ctx.signal.aborted) report.error = `aborted: ${report.error}`;
}

/** Tears the scratch instance down (or keeps it), marks what never ran skipped, and saves. */
export async function closeDrill(rec: DrillRecorder, scratch: { dataDir: string; port: number; stop(): Promise<void> } | undefined, keep: boolean): Promise<void> {
  const { report, finalStep, skip, save } = rec;
  if (scratch && keep) {
    report.kept = { dataDir: scratch.dataDir, port: scratch.port };
    skip('tear down', `kept: ${scratch.dataDir} on port ${scratch.port}`);
  } else if (scratch) {
    // Tear-down runs even after a failure or Ctrl-C: a drill never leaves a server behind.
    const s = scratch;
    await finalStep('tear down', () => s.stop()).catch(() => {});
  } else {
    skip('tear down', 'nothing was started');
  }
  for (const s of report.steps) if (s.status === 'pending') s.status = 'skipped';
  report.finishedAt = new Date().toISOString();
  save();
}

/** Says so when the restored tables could not be held against the backup's own record. */
export function notComparedNote(m: Manifest, checks: DrillCheckResult[]): string | undefined {
  if (checks.some((c) => c.name === 'tables match the backup')) return undefined;
  const why = m.kind === 'physical' ? 'a physical backup records none' : 'the backup recorded none';
  return `table row counts not compared: ${why}; verified instead: ${checks.map((c) => c.name).join(', ')}`;
}
