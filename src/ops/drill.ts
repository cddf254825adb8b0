import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import { parseDuration } from '../config/duration.js';
import { evaluateExpectation, type DrillCheck } from '../config/drill-checks.js';
import { compareStats, describeMismatches, whatWasCompared } from '../engines/compare-stats.js';
import type { EngineContext } from '../engines/context.js';
import { runAmcheck } from '../engines/postgres/amcheck.js';
import type { ReplayExpectation } from '../engines/postgres/pitr-restore.js';
import { checkValue } from '../engines/postgres/check-value.js';
import { connectPostgres } from '../engines/postgres/client.js';
import { pgLogicalRestore } from '../engines/postgres/logical-restore.js';
import { tableStats } from '../engines/postgres/table-stats.js';
import { DbdrillError, invalid } from '../errors.js';
import type { DrillCheckResult, DrillReport, DrillStep } from '../drill/report.js';
import { markCorrupt } from '../repo/backup-files.js';
import { describeMismatch, verifyFiles } from '../repo/checksum.js';
import { writeFileAtomic } from '../repo/atomic.js';
import type { Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { startPostgresSandbox, type SandboxInstance } from '../sandbox/index.js';
import type { RestoreTarget } from '../pitr/time.js';
import { formatBytes } from '../util/bytes.js';
import { archivedBytes } from '../wal/layout.js';
import { startJob, type Job } from './job.js';
import { runMysqlDrill } from './drill-mysql.js';
import { PhysicalScratch } from './physical-scratch.js';
import { planPitr, readArchive } from './pitr.js';
import { secondIsMysqlOnly } from './plan-mysql.js';
import type { SecondChoice } from '../binlog/window.js';
import { sandboxTarget } from './sandbox-target.js';

export interface DrillOptions {
  to?: RestoreTarget;
  /** MySQL/MariaDB time targets: replay every transaction stamped the target's second, or none. */
  second?: SecondChoice;
  rto?: string;
  rpo?: string;
  keep?: boolean;
  backup?: string;
}

export function drillsDir(repo: string): string {
  return join(repo, 'drills');
}

export function startDrill(configDir: string, name: string, opts: DrillOptions, signal?: AbortSignal): Job<DrillReport> {
  const target = new TargetStore(configDir).get(name);
  return startJob((ctx) => runDrill(ctx, target, opts), signal);
}

interface Scratch {
  readonly target: Target;
  /** The instance's own directory (data, log, socket): all of it goes at tear-down. */
  readonly dir: string;
  readonly dataDir: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A restore drill: pick a backup, check its files, restore it into a scratch instance on its own
 * port (archiving off), replay WAL to the target, verify, measure RTO and RPO, tear down. Every
 * step is timed and recorded; the report is written even when a step fails or Ctrl-C stops it.
 */
export async function runDrill(ctx: EngineContext, target: Target, opts: DrillOptions): Promise<DrillReport> {
  if (target.engine === 'mysql') return runMysqlDrill(ctx, target, opts);
  if (opts.second !== undefined) throw invalid(secondIsMysqlOnly(target.name));
  const requested: RestoreTarget = opts.to ?? { kind: 'latest' };
  const objectives = drillObjectives(target, opts);
  const repo = new Repository(target.repo);
  const t0 = performance.now();
  const rec = openDrillReport(ctx, target, requested, ['pick backup', 'verify backup files', 'provision scratch instance', 'restore base', 'replay WAL', 'verify', 'measure', 'tear down']);
  const { report, step, skip } = rec;
  const { rtoLimit, rpoLimit } = objectives;

  let scratch: Scratch | undefined;
  let transferSeconds = 0;
  let replaySeconds = 0;
  try {
    const chosen = await step('pick backup', () => pickForDrill(target, repo, requested, opts.backup), (c) => `${c.m.kind} backup ${c.m.id}${c.detail ? `; ${c.detail}` : ''}`);
    report.backup = chosen.m.id;
    report.kind = chosen.m.kind;
    const backupDir = repo.backupDir(chosen.m.id);
    await step('verify backup files', async () => {
      const bad = await verifyFiles(backupDir, chosen.m.files);
      if (bad.length > 0) {
        markCorrupt(repo, chosen.m.id, `${bad.map(describeMismatch).join('; ')} (found by a drill)`);
        throw new DbdrillError('failed', `backup ${chosen.m.id} is damaged: ${bad.map((b) => `${b.path} ${b.problem === 'checksum' ? 'does not match its checksum' : `is ${b.problem}`}`).join('; ')}`);
      }
      return chosen.m.files.length;
    }, (n) => `${n} file(s) match their checksums`);

    let lastCommitAt: Date | undefined;
    if (chosen.m.kind === 'physical') {
      const ps = await step('provision scratch instance', () => PhysicalScratch.provision(target, 'drill', opts.keep === true), (p) => `${p.dataDir} on 127.0.0.1:${p.port}, archive_mode off`);
      scratch = ps;
      report.scratch = { dir: ps.dir, dataDir: ps.dataDir, port: ps.port };
      const tt = performance.now();
      await step('restore base', () => ps.restoreBase(ctx, chosen.m, backupDir, chosen.settings!), (b) => `unpacked ${formatBytes(b)} of base backup`, (b) => b);
      transferSeconds = (performance.now() - tt) / 1000;
      const tr = performance.now();
      const outcome = await step('replay WAL', () => ps.replay(ctx, chosen.m, chosen.replay ?? { segments: 1 }),
        (o) => `${o.state.restored.length} archived segment(s) replayed${o.state.lastCommitAt ? `, last commit ${o.state.lastCommitAt.toISOString()}` : ''}`,
        (o) => archivedBytes(target.repo, o.state.restored));
      replaySeconds = (performance.now() - tr) / 1000;
      lastCommitAt = outcome.state.lastCommitAt;
    } else {
      let sandbox: SandboxInstance | undefined;
      await step('provision scratch instance', async () => {
        sandbox = await startPostgresSandbox({ signal: ctx.signal, keep: opts.keep === true });
        return sandbox;
      }, (s) => `PostgreSQL ${s.version} on 127.0.0.1:${s.port}`);
      const sb = sandbox!;
      scratch = { target: sandboxTarget(sb, `${target.name}-drill`, ''), dir: sb.dir, dataDir: sb.dataDir, port: sb.port, stop: () => sb.stop() };
      report.scratch = { dir: sb.dir, dataDir: sb.dataDir, port: sb.port };
      const tt = performance.now();
      await step('restore base', () => pgLogicalRestore(ctx, scratch!.target, chosen.m, backupDir, { dbname: chosen.m.database ?? target.dbname }), (t) => `${t.length} table(s) restored`, () => chosen.m.sizeBytes);
      transferSeconds = (performance.now() - tt) / 1000;
      skip('replay WAL', 'a logical backup is restored as of its dump; there is no WAL to replay');
      // A dump holds what its snapshot saw, at the start of the backup.
      lastCommitAt = new Date(chosen.m.startedAt);
    }

    const drillTarget: Target = { ...scratch.target, dbname: chosen.m.database ?? target.dbname };
    const targetTime = requested.kind === 'time' ? requested.at : new Date();
    await verifyStep(rec, ctx, chosen.m, () => verifyInstance(ctx, drillTarget, chosen.m, target.checks ?? [], targetTime));
    const rtoSeconds = (performance.now() - t0) / 1000;

    await step('measure', async () => {
      report.rto = { seconds: rtoSeconds, transferSeconds, replaySeconds };
      if (rtoLimit !== undefined) Object.assign(report.rto, { objectiveSeconds: rtoLimit, ok: rtoSeconds <= rtoLimit });
      if (requested.kind === 'time') {
        const lost = lastCommitAt ? Math.max(0, (requested.at.getTime() - lastCommitAt.getTime()) / 1000) : NaN;
        report.rpo = { seconds: lost, reference: `target ${requested.at.toISOString()} minus the last replayed commit`, ...(lastCommitAt ? { lastCommitAt: lastCommitAt.toISOString() } : {}) };
      } else if (chosen.m.kind === 'physical') {
        const newest = chosen.newestArchivedAt ? new Date(chosen.newestArchivedAt) : lastCommitAt;
        report.rpo = { seconds: newest ? (Date.now() - newest.getTime()) / 1000 : NaN, reference: 'now minus the newest archived segment', ...(lastCommitAt ? { lastCommitAt: lastCommitAt.toISOString() } : {}) };
      } else {
        report.rpo = { seconds: (Date.now() - lastCommitAt!.getTime()) / 1000, reference: 'now minus the start of the logical backup', lastCommitAt: lastCommitAt!.toISOString() };
      }
      if (rpoLimit !== undefined) Object.assign(report.rpo, { objectiveSeconds: rpoLimit, ok: report.rpo.seconds <= rpoLimit });
    }, () => `RTO ${report.rto!.seconds.toFixed(1)} s, RPO ${report.rpo!.seconds.toFixed(1)} s`);

    judgeDrill(report, objectives);
  } catch (e) {
    failDrill(rec, ctx, e);
  } finally {
    await closeDrill(rec, scratch, opts.keep === true);
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

interface Chosen {
  m: Manifest;
  settings?: Record<string, string>;
  replay?: ReplayExpectation;
  newestArchivedAt?: string;
  detail?: string;
}

async function pickForDrill(target: Target, repo: Repository, requested: RestoreTarget, backup?: string): Promise<Chosen> {
  const view = await readArchive(target);
  const hasBase = view.manifests.some((m) => m.status === 'complete' && m.kind === 'physical');
  if (hasBase) {
    const plan = planPitr(view, { target: requested, into: '', port: 0, backup });
    return {
      m: plan.backup,
      settings: plan.settings,
      replay: { segments: plan.segments, startLsn: plan.startLsn, endLsn: plan.endLsn },
      ...(view.window.newestArchivedAt ? { newestArchivedAt: view.window.newestArchivedAt } : {}),
      detail: `WAL ${plan.walFrom}…${plan.walTo}`,
    };
  }
  if (requested.kind !== 'latest') {
    throw invalid(`Target "${target.name}" has only logical backups, which restore to their own moment; drill with --to latest or take a physical backup.`);
  }
  const logical = backup ? repo.readManifest(backup) : view.manifests.find((m) => m.status === 'complete' && m.kind === 'logical');
  if (!logical || logical.status !== 'complete') throw invalid(`Target "${target.name}" has no complete backup to drill; take one with dbdrill backup ${target.name}.`);
  return { m: logical };
}

/** Says so when the restored tables could not be held against the backup's own record. */
export function notComparedNote(m: Manifest, checks: DrillCheckResult[]): string | undefined {
  if (checks.some((c) => c.name === 'tables match the backup')) return undefined;
  const why = m.kind === 'physical' ? 'a physical backup records none' : 'the backup recorded none';
  return `table row counts not compared: ${why}; verified instead: ${checks.map((c) => c.name).join(', ')}`;
}

/**
 * The restored instance must accept connections, hold what the backup recorded (logical backups
 * carry row counts and digests of their own moment), pass pg_amcheck, and satisfy the target's
 * own SQL checks.
 */
async function verifyInstance(ctx: EngineContext, t: Target, m: Manifest, checks: DrillCheck[], targetTime: Date): Promise<DrillCheckResult[]> {
  const out: DrillCheckResult[] = [];
  let client: pg.Client;
  try {
    client = await connectPostgres(t);
    out.push({ name: 'accepts connections', ok: true, detail: `connected to 127.0.0.1:${t.port} as ${t.user}` });
  } catch (e) {
    out.push({ name: 'accepts connections', ok: false, detail: (e as Error).message });
    return out;
  }
  try {
    if (m.kind === 'logical' && m.tables?.length) {
      const mismatches = compareStats(m.tables, await tableStats(client));
      out.push({
        name: 'tables match the backup',
        ok: mismatches.length === 0,
        detail: mismatches.length === 0 ? `${m.tables.length} table(s): ${whatWasCompared(m.tables)} as recorded` : describeMismatches(mismatches),
      });
    }
    for (const c of checks) {
      try {
        out.push({ name: c.name, ...evaluateExpectation(await checkValue(client, c.sql), c.expect, targetTime) });
      } catch (e) {
        out.push({ name: c.name, ok: false, expected: c.expect, detail: `query failed: ${(e as Error).message}` });
      }
    }
  } finally {
    await client.end().catch(() => {});
  }
  const am = await runAmcheck(ctx, t, t.dbname, m.serverVersion);
  out.push({ name: 'pg_amcheck', ok: am.ok, detail: am.detail });
  return out;
}
