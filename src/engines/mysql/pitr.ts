import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { decryptBinlogInto, isSealed } from '../../binlog/sealed.js';
import { join, resolve } from 'node:path';
import type { Target } from '../../config/target.js';
import { binlogRoot } from '../../binlog/archive.js';
import { stopDatetimeArg } from '../../binlog/decoded.js';
import { describePoint, missedPromise, promisedPoint, reachedPoint } from '../../binlog/reached.js';
import type { MysqlRestorePlan } from '../../binlog/window.js';
import type { EngineContext } from '../context.js';
import { findBinlogTool } from './binlog-server.js';
import { replayBinlogs, type ReplayFailure, type ReplayOutcome } from './binlog-replay.js';
import { parseDumpHead } from './dump-head.js';
import { readDump } from './sealed-dump.js';
import { myLogicalRestore, restoredStats } from './logical-restore.js';
import { copyBack, physicalRestoreSettings, unpackSealed } from './physical-restore.js';
import { isSealedStream } from './backup-info.js';
import { chainForRestore } from './chain.js';
import { chainRestoreSettings, restoreChainInto } from './chain-restore.js';
import { schemaExists } from './schemas.js';
import { DbdrillError, invalid } from '../../errors.js';
import type { Manifest, TableStat } from '../../repo/manifest.js';
import { Repository } from '../../repo/repository.js';
import { checkRepositoryKey } from '../../repo/sealed-read.js';
import { startMariadbSandbox, type SandboxInstance } from '../../sandbox/index.js';
import { checkRestoreDestination } from '../restore-destination.js';
import { unregister } from '../../sandbox/registry.js';
import type { MysqlPitrReport, MysqlPlanReport, PitrReport, PitrRequest } from '../restore-types.js';
import { planMysqlPitr, readMysqlArchive, shortfallSentence } from './plan.js';
import { sandboxTarget } from '../../sandbox/target.js';

/** The plan as PitrReport carries it: the same fields the PostgreSQL plan has, in binlog terms. */
export function reportPlan(plan: MysqlRestorePlan): MysqlPlanReport {
  return {
    archive: 'binlog',
    backup: plan.backup.id,
    target: plan.target,
    settings: {
      'start-position': `${plan.startFile}:${plan.startPosition}`,
      ...(plan.stopAt ? { 'stop-datetime': `${stopDatetimeArg(plan.stopAt)} UTC` } : {}),
      ...(plan.stopPosition !== undefined ? { 'stop-position': `${plan.files.at(-1)!.file}:${plan.stopPosition}` } : {}),
      ...(plan.target.kind === 'gtid' ? { 'stop-after-gtid': plan.target.gtid } : {}),
      ...(plan.backup.kind === 'physical' ? { databases: 'all (physical backup)' } : { database: plan.schema }),
    },
    walFrom: plan.files[0]?.file ?? plan.startFile,
    walTo: plan.files.at(-1)?.file ?? plan.startFile,
    segments: plan.files.length,
    estimatedBytes: plan.estimatedBytes,
    ...(plan.chain ? { chain: plan.chain } : {}),
    notes: plan.notes,
    ...(plan.expected ? { promised: promisedPoint(plan.expected) } : {}),
    ...(plan.ambiguousSecond ? { ambiguousSecond: plan.ambiguousSecond } : {}),
  };
}

/** The same destination checks as PostgreSQL's (src/engines/restore-destination.ts), for the MariaDB instance directory. */
export async function checkMysqlDestination(dir: string, port: number, opts: { repo?: string; claim?: { target: string; backup?: string } } = {}): Promise<void> {
  await checkRestoreDestination({ dir, port, server: 'mysql', serverTraces: ['mariadbd.pid', 'data'], ...opts });
}

/** A dump of MySQL (not MariaDB) may use syntax the MariaDB server dbdrill starts cannot load. */
export async function checkDumpFlavor(m: Manifest, dir: string, signal: AbortSignal): Promise<void> {
  const head = parseDumpHead((await readDump(dir, signal)).head);
  if (head.serverVersion && !/mariadb/i.test(head.serverVersion)) {
    throw invalid(`Backup ${m.id} is a MySQL dump and dbdrill restores into a new MariaDB server, which cannot load MySQL-only syntax and binlog events reliably; restore it by hand into a MySQL server.`);
  }
}

type StepHook = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * Starts a new MariaDB on a copy of a physical backup's files: checked first (prepared, a server
 * here that reads them), copied with mariadb-backup --copy-back into <baseDir>/data, owned by the
 * server's account, started with the source's InnoDB layout and the binary log off. A diff or incr
 * brings its chain: every member copied out (checked while read, so a broken link stops before the
 * server starts, naming the member), the changes applied onto the full in order (`apply`), moved
 * into place. Shared by restore --to, drills and verify --restore.
 */
export async function startOnPhysicalBackup(
  ctx: EngineContext,
  source: Target,
  m: Manifest,
  opts: { baseDir?: string; port?: number; keep: boolean; copy?: StepHook; apply?: StepHook; skipApply?: (why: string) => void; title?: string },
): Promise<SandboxInstance> {
  const repo = new Repository(source.repo);
  const backupDir = repo.backupDir(m.id);
  const copy = opts.copy ?? ((fn) => ctx.step('copy backup', fn));
  let settings: Record<string, string>;
  let populate: (dataDir: string) => Promise<void | Record<string, string>>;
  if (m.type === 'full') {
    settings = await physicalRestoreSettings(m, backupDir);
    populate = isSealedStream(m) ? (dataDir) => copy(() => unpackSealed(ctx, m, backupDir, dataDir)) : (dataDir) => copy(() => copyBack(ctx, backupDir, dataDir));
    opts.skipApply?.(`backup ${m.id} is a full backup: nothing to apply`);
  } else {
    const chain = chainForRestore(repo.catalog().manifests, m.id, source.name);
    settings = await chainRestoreSettings(source.repo, chain);
    populate = async (dataDir) => {
      const prepared = await restoreChainInto(ctx, source.repo, chain, dataDir, {
        ...(opts.copy ? { copy: opts.copy } : {}),
        ...(opts.apply ? { apply: opts.apply } : {}),
      });
      return prepared.settings;
    };
  }
  return startMariadbSandbox({
    ...(opts.baseDir !== undefined ? { baseDir: opts.baseDir } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    binlog: false,
    keep: opts.keep,
    signal: ctx.signal,
    settings,
    ...(opts.title ? { title: opts.title } : {}),
    populate,
  });
}

/**
 * Replays the archived binlogs of a plan into a running instance that holds the plan's backup:
 * limited to the plan's schema after a logical backup, every schema after a physical one.
 */
export async function replayPlan(ctx: EngineContext, source: Target, into: Target, plan: MysqlRestorePlan, hook?: StepHook, scratchIn?: string): Promise<ReplayOutcome | undefined> {
  if (plan.files.length === 0) return undefined;
  const step = hook ?? ((fn) => ctx.step('replay binlogs', fn));
  const tool = await findBinlogTool('mariadb');
  const root = binlogRoot(source.repo);
  return step(async () => {
    // Encrypted binlogs are decrypted (and checked) into the restore's own scratch directory,
    // which is removed once the replay ends; plain ones are read where they are archived.
    const sealed = plan.files.some(isSealed);
    const scratch = sealed ? mkdtempSync(join(scratchIn ?? tmpdir(), '.binlogs-')) : undefined;
    try {
      const files: { path: string; size: number }[] = [];
      for (const f of plan.files) {
        files.push(isSealed(f) ? { path: await decryptBinlogInto(source.repo, f, scratch!, ctx.signal), size: f.plain!.bytes } : { path: join(root, f.file), size: f.size });
      }
      return await replayBinlogs(ctx, into, tool, {
        files,
        startPosition: plan.startPosition,
        ...(plan.stopAt ? { stopAt: plan.stopAt } : {}),
        ...(plan.stopPosition !== undefined ? { stopPosition: plan.stopPosition } : {}),
        ...(plan.backup.kind === 'logical' ? { schema: plan.schema } : {}),
      });
    } catch (e) {
      const at = e instanceof DbdrillError ? (e.detail?.replayFailedAt as ReplayFailure | undefined) : undefined;
      if (!at || !(e instanceof DbdrillError)) throw e;
      const promised = plan.expected ? `, short of ${describePoint(promisedPoint(plan.expected))}` : '';
      // The client echoes the statement it refused (a BINLOG statement can be megabytes): its ERROR line says it all.
      const refused = ((e.detail?.stderrTail as string[] | undefined) ?? []).find((l) => /^ERROR \d+/.test(l));
      const why = refused ? `${String(e.detail?.tool)} exited with code ${String(e.detail?.exitCode)}: ${refused}` : e.message.replace(/\.$/, '');
      throw new DbdrillError('failed', `replay of the archived binlogs failed ${at.exact ? 'at' : 'at or before'} ${at.file}:${at.position} (${why})${promised}`, e.detail);
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  });
}

/** A sentence when a replay did not end where its plan said; undefined when it did (or nothing was replayed). */
export function replayMissed(plan: MysqlRestorePlan, replay: ReplayOutcome | undefined): string | undefined {
  if (!plan.expected || !replay) return undefined;
  const names = plan.files.map((f) => f.file);
  return missedPromise(reachedPoint(replay, names, plan.startPosition), plan.expected, names);
}

/**
 * Loads a logical backup into a running instance and replays the archived binlogs of the plan.
 * Shared by restore --to and drills.
 */
export async function restoreAndReplay(
  ctx: EngineContext,
  source: Target,
  into: Target,
  plan: MysqlRestorePlan,
  hooks: { load?: StepHook; replay?: StepHook; scratch?: string } = {},
): Promise<{ tables: TableStat[]; loaded: TableStat[]; replay?: ReplayOutcome }> {
  const backupDir = new Repository(source.repo).backupDir(plan.backup.id);
  const load = hooks.load ?? ((fn) => ctx.step('load backup', fn));
  // What the dump alone holds: the backup's own moment, which its manifest's counts describe.
  const loaded = await load(() => myLogicalRestore(ctx, into, plan.backup, backupDir, { dbname: plan.schema }));
  const replay = await replayPlan(ctx, source, into, plan, hooks.replay, hooks.scratch);
  const tables = replay && replay.transactions > 0 ? await restoredStats(ctx, into, plan.schema) : loaded;
  return { tables, loaded, ...(replay ? { replay } : {}) };
}

/** The plan's schema as restored from a physical backup (none when the backup did not hold it). */
export async function physicalTables(ctx: EngineContext, into: Target, schema: string): Promise<TableStat[]> {
  return (await schemaExists(into, schema)) ? restoredStats(ctx, into, schema) : [];
}

/**
 * Point-in-time restore of a MySQL/MariaDB target into a new directory and port: plan (refusing a
 * time outside the window before anything is written), start a fresh MariaDB there, load the
 * backup's dump into the source's schema name, replay the archived binlogs from the dump's
 * position up to the target, and report the point reached. The server keeps running afterwards;
 * the source server is never contacted.
 */
export async function runMysqlPitrRestore(ctx: EngineContext, target: Target, req: PitrRequest): Promise<MysqlPitrReport | PitrReport> {
  const t0 = performance.now();
  const dir = resolve(req.into);
  const view = await ctx.step('plan', () => readMysqlArchive(target, ctx.signal));
  // The plan reads encrypted binlogs and the restore decrypts a backup: the key first, nothing written yet.
  await checkRepositoryKey(target.repo, view.all);
  const plan = await planMysqlPitr(view, target, req, ctx.signal);
  const short = shortfallSentence(plan, target);
  if (short) throw new DbdrillError('failed', short, { shortfall: plan.shortfall });
  const planOut = reportPlan(plan);
  const backupDir = new Repository(target.repo).backupDir(plan.backup.id);
  ctx.emit({
    type: 'log',
    level: 'info',
    text: `plan: backup ${plan.backup.id} (binlog ${plan.startFile}:${plan.startPosition}), ${plan.files.length ? `binlogs ${planOut.walFrom}…${planOut.walTo} (${plan.files.length} file(s))` : 'no binlog to replay'}${plan.stopAt ? `, stop before ${stopDatetimeArg(plan.stopAt)} UTC` : ''}${plan.stopPosition !== undefined ? `, stop at ${planOut.walTo}:${plan.stopPosition}` : ''}, schema ${plan.schema}`,
  });
  if (req.exclusive) plan.notes.push(`--exclusive changes nothing here: ${req.second === 'inclusive' ? '--second inclusive' : 'a binlog replay never'} includes the target second itself`);
  for (const n of plan.notes) ctx.emit({ type: 'log', level: 'info', text: n });
  const physical = plan.backup.kind === 'physical';
  if (!physical) await checkDumpFlavor(plan.backup, backupDir, ctx.signal);
  await ctx.step('check destination', () => checkMysqlDestination(dir, req.port, { repo: target.repo, ...(req.dryRun ? {} : { claim: { target: target.name, backup: plan.backup.id } }) }));
  if (req.dryRun) return { target: target.name, plan: planOut, dataDir: join(dir, 'data'), port: req.port, seconds: (performance.now() - t0) / 1000, dryRun: true };

  // Registered like any sandbox until the restore succeeds, so a failure or Ctrl-C stops it. Named
  // in ps as PostgreSQL's restored servers are (there through cluster_name).
  const title = req.serverName ? { title: req.serverName } : {};
  const sb: SandboxInstance = await ctx.step('start server', () =>
    physical
      ? startOnPhysicalBackup(ctx, target, plan.backup, { baseDir: dir, port: req.port, keep: true, ...title })
      : startMariadbSandbox({ baseDir: dir, port: req.port, binlog: false, keep: true, signal: ctx.signal, ...title }),
  );
  try {
    const into = sandboxTarget(sb, `${target.name}-restore`, '');
    const optionFile = join(dir, 'client.cnf');
    writeFileSync(optionFile, `[client]\nuser=${sb.user}\npassword="${sb.password.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"\nhost=127.0.0.1\nport=${sb.port}\nprotocol=TCP\n`, { mode: 0o600 });
    let tables: TableStat[];
    let replay: ReplayOutcome | undefined;
    if (physical) {
      replay = await replayPlan(ctx, target, into, plan, undefined, dir);
      tables = await physicalTables(ctx, into, plan.schema);
    } else {
      ({ tables, replay } = await restoreAndReplay(ctx, target, into, plan, { scratch: dir }));
    }
    if (!replay) ctx.emit({ type: 'step', step: 'replay binlogs', status: 'skipped', detail: plan.target.kind === 'immediate' ? 'the backup\'s own moment was asked for' : 'no archived binlog to replay after the backup\'s position' });
    const reached = replay ? reachedPoint(replay, plan.files.map((f) => f.file), plan.startPosition) : undefined;
    const missed = replayMissed(plan, replay);
    if (missed) throw new DbdrillError('failed', missed, { reached, promised: promisedPoint(plan.expected!) });
    if (reached && plan.expected) ctx.emit({ type: 'log', level: 'info', text: `replay reached ${describePoint(reached)}, the point the plan promised` });
    unregister(sb.dir);
    return {
      target: target.name,
      plan: planOut,
      dataDir: sb.dataDir,
      port: sb.port,
      pid: sb.pid,
      logFile: sb.logFile,
      reached: replay?.lastChangeAt ? { lastCommitAt: replay.lastChangeAt.toISOString() } : {},
      segmentsRestored: plan.files.length,
      seconds: (performance.now() - t0) / 1000,
      dryRun: false,
      mysql: {
        instanceDir: sb.dir,
        schema: plan.schema,
        optionFile,
        socket: join(sb.socketDir, 'mysqld.sock'),
        user: sb.user,
        stopCommand: `mariadb-admin --defaults-extra-file=${optionFile} shutdown`,
        transactionsReplayed: replay?.transactions ?? 0,
        ...(replay?.lastGtid ? { lastGtid: replay.lastGtid } : {}),
        ...(reached ? { reached } : {}),
        ...(plan.expected ? { promised: promisedPoint(plan.expected) } : {}),
        tables,
      },
    };
  } catch (e) {
    await sb.stop().catch(() => {});
    if (e instanceof DbdrillError) {
      throw new DbdrillError(e.code, `${e.message.replace(/\.$/, '')}; the new server in ${dir} was stopped and the directory left for inspection (remove it before restoring there again).`, e.detail);
    }
    throw e;
  }
}
