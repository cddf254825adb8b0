import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../config/duration.js';
import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import type { EngineContext } from '../engines/context.js';
import type { TrainingServer } from '../engines/contract.js';
import { engineEntry, engineFor } from '../engines/registry.js';
import { DbdrillError, invalid } from '../errors.js';
import { writeFileAtomic } from '../repo/atomic.js';
import { Repository } from '../repo/repository.js';
import { isPidAlive, pidMatches, signalProcess, waitForPidExit } from '../runner/process.js';
import {
  disasterInfo, noRestoreYet, scoreRecovery, TRAINING_OBJECTIVES, TRAINING_TABLE, type DisasterKind, type TrainingRestore, type TrainingScore, type TrainingSession,
} from '../training/session.js';
import { parseTrainingSession } from '../training/session-schema.js';
import { readJsonFile } from '../util/untrusted-file.js';
import { runBackup } from './backup.js';
import { startJob, type Job } from './job.js';
import type { PitrReport } from './pitr.js';

/** How long a disaster waits for its WAL to reach the archive, so the window shows it. */
const ARCHIVE_WAIT_MS = 30_000;
/** How long scoring a repair waits for the archiver to drain its backlog. */
const CATCH_UP_MS = 75_000;

function sessionFile(configDir: string, name: string): string {
  return join(configDir, 'training', `${name}.json`);
}

export function readTrainingSession(configDir: string, name: string): TrainingSession | undefined {
  const file = sessionFile(configDir, name);
  const raw = readJsonFile(file);
  return raw === undefined ? undefined : parseTrainingSession(raw, file, name);
}

function saveSession(configDir: string, s: TrainingSession): void {
  writeFileAtomic(sessionFile(configDir, s.target), `${JSON.stringify(s, null, 2)}\n`);
}

/** Only the training sandbox may be damaged on purpose. */
function trainingTarget(configDir: string, name: string): Target {
  const target = new TargetStore(configDir).get(name);
  if (!target.sandbox) {
    throw invalid(`Target "${name}" is not a training sandbox; disasters are only caused on the sandbox (start it with dbdrill sandbox start).`);
  }
  if (!engineEntry(target.engine).training) {
    throw invalid(`Training runs on the PostgreSQL sandbox; target "${name}" is ${target.engine}. Start it with dbdrill sandbox start.`);
  }
  return target;
}

/** Runs fn on a connection to the training server (its engine's side of the scenarios), then closes it. */
async function withServer<T>(target: Target, fn: (s: TrainingServer) => Promise<T>): Promise<T> {
  const training = (await engineFor(target)).training;
  // trainingTarget() refused this already; an engine row that claims training must implement it.
  if (!training) throw new Error(`engine ${target.engine} has training in its registry row but no training member`);
  const server = await training.connect(target);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

export function startDisaster(configDir: string, name: string, kind: DisasterKind, signal?: AbortSignal): Job<TrainingSession> {
  const target = trainingTarget(configDir, name);
  const open = readTrainingSession(configDir, name);
  if (open && !open.score) {
    throw invalid(`A training session on "${name}" is under way (${disasterInfo(open.kind).title.toLowerCase()} at ${open.disasterAt}); score it or end it first (dbdrill train ${name} end).`);
  }
  return startJob((ctx) => runDisaster(ctx, configDir, target, kind), signal);
}

/**
 * The disaster, made realistic: a base backup exists (a restore needs one), the archive is
 * current, some ordinary commits happen, then the damage, and its WAL reaches the archive — so
 * "latest" would restore the damage too and the trainee has to pick the moment before it.
 */
async function runDisaster(ctx: EngineContext, configDir: string, target: Target, kind: DisasterKind): Promise<TrainingSession> {
  const info = disasterInfo(kind);
  const objectives = {
    rtoSeconds: target.rto ? parseDuration(target.rto, 'rto') : TRAINING_OBJECTIVES.rtoSeconds,
    rpoSeconds: target.rpo ? parseDuration(target.rpo, 'rpo') : TRAINING_OBJECTIVES.rpoSeconds,
  };
  const startedAt = new Date().toISOString();
  const repo = new Repository(target.repo);
  // A method keeping its own catalog (a pgBackRest sandbox) holds its physical backups there.
  const own = (await engineFor(target)).methodOf(target).ownCatalog;
  const ownBases = own?.kinds.includes('physical') ? await own.list(target, ctx.signal) : [];
  let base = [...ownBases, ...repo.catalog().manifests].find((m) => m.kind === 'physical' && m.status === 'complete')?.id;
  if (info.recovery === 'restore' && !base) {
    const m = await ctx.step('take a base backup (a restore starts from one)', () => runBackup(ctx, target, { kind: 'physical', type: 'full', checkpoint: 'fast' }));
    base = m.id;
  } else if (base) {
    ctx.emit({ type: 'step', step: 'base backup', status: 'skipped', detail: `${base} exists` });
  }

  return withServer(target, async (server) => {
    const archiveCommand = await server.archiveCommand();
    if (archiveCommand === '' || /^exit /.test(archiveCommand)) {
      throw invalid(`The sandbox's archive_command is "${archiveCommand}", so nothing reaches the archive; end the last session (dbdrill train ${target.name} end) or restart the sandbox.`);
    }
    const lastGood = await ctx.step('business as usual: a few commits', () => server.writeEvents(3, 700, ctx.signal));
    const before = info.recovery === 'restore' ? await server.tableStat(TRAINING_TABLE) : undefined;
    if (info.recovery === 'restore' && !before) {
      throw invalid(`The sandbox has no ${TRAINING_TABLE} table to damage; end the last session (dbdrill train ${target.name} end) to put it back.`);
    }
    // A clear second between the last good commit and the damage, so "just before" is typeable.
    await sleep(1200, undefined, { signal: ctx.signal });
    const disasterAt = await ctx.step(info.title, () => server.causeDisaster(kind));
    const session: TrainingSession = {
      formatVersion: 1,
      target: target.name,
      kind,
      startedAt,
      lastGoodAt: lastGood.toISOString(),
      disasterAt: disasterAt.toISOString(),
      what: info.blurb.replace(/:.*$/, ''),
      ...(before ? { before } : {}),
      ...(base ? { baseBackup: base } : {}),
      archiveCommand,
      objectives,
    };
    // Saved before waiting on the archive: the damage is done, the session must know it.
    saveSession(configDir, session);
    if (info.recovery === 'restore') {
      const seg = await server.switchLog();
      const archived = await ctx.step('archive the WAL holding the disaster', async () => {
        if (!(await server.waitArchived(seg, ARCHIVE_WAIT_MS, ctx.signal))) {
          throw new DbdrillError('failed', `Segment ${seg} was not archived within ${ARCHIVE_WAIT_MS / 1000} s; check the sandbox's archiving on Health (5).`);
        }
        return seg;
      });
      ctx.emit({ type: 'log', level: 'info', text: `the archive now holds ${archived}: the window reaches past the disaster` });
    } else {
      // Work goes on while archiving is broken: segments pile up as .ready files.
      await ctx.step('keep writing while nothing is archived', async () => {
        for (let i = 0; i < 3; i++) {
          await server.writeEvents(1, 0);
          await server.switchLog();
        }
        const s = await server.archiver();
        return s.ready;
      });
    }
    return session;
  });
}

/**
 * Records the trainee's restore in the session (the console calls it when a restore of the
 * training target finishes; the headless command passes the restored server's port).
 */
export function recordTrainingRestore(configDir: string, name: string, report: PitrReport, requested: string): TrainingSession | undefined {
  const s = readTrainingSession(configDir, name);
  if (!s || s.score || report.dryRun) return s;
  const restore: TrainingRestore = {
    at: new Date().toISOString(),
    port: report.port,
    dataDir: report.dataDir,
    requested,
    ...(report.pid !== undefined ? { pid: report.pid } : {}),
    ...(report.reached?.lastCommitAt ? { lastCommitAt: report.reached.lastCommitAt } : {}),
  };
  const next = { ...s, restore };
  saveSession(configDir, next);
  return next;
}

export function startRepair(configDir: string, name: string, signal?: AbortSignal): Job<TrainingSession> {
  const target = trainingTarget(configDir, name);
  const s = readTrainingSession(configDir, name);
  if (!s) throw invalid(`No training session on "${name}"; start one with dbdrill train ${name} start --disaster break-archiving.`);
  if (s.kind !== 'break-archiving') throw invalid(`The disaster on "${name}" was ${disasterInfo(s.kind).title.toLowerCase()}; it is recovered with a restore (screen 3), not a repair.`);
  return startJob(async (ctx) => {
    await ctx.step('put archive_command back', () => withServer(target, (c) => c.setArchiveCommand(s.archiveCommand!)));
    const next = { ...s, repairedAt: s.repairedAt ?? new Date().toISOString() };
    saveSession(configDir, next);
    return next;
  }, signal);
}

export function startScore(configDir: string, name: string, opts: { port?: number } = {}, signal?: AbortSignal): Job<TrainingScore> {
  const target = trainingTarget(configDir, name);
  const s = readTrainingSession(configDir, name);
  if (!s) throw invalid(`No training session on "${name}"; start one first (screen 6, or dbdrill train ${name} start).`);
  return startJob(async (ctx) => {
    let session = s;
    if (opts.port !== undefined) {
      session = { ...s, restore: { at: s.restore?.at ?? new Date().toISOString(), port: opts.port, dataDir: s.restore?.dataDir ?? '', requested: s.restore?.requested ?? '' } };
    }
    let score: TrainingScore;
    if (disasterInfo(s.kind).recovery === 'repair') {
      const caughtUp = await ctx.step('check that the archive caught up', () =>
        withServer(target, async (c) => {
          // What was waiting when archiving broke must be archived now, and nothing left waiting.
          // PostgreSQL restarts an archiver that died of exit > 125 at most every 10 s, and one
          // that failed sleeps up to a minute: give it that long before calling it not caught up.
          const seg = await c.switchLog();
          const until = Date.now() + CATCH_UP_MS;
          let st = await c.archiver(seg);
          while (!(st.ready === 0 && st.archived) && Date.now() < until) {
            ctx.emit({ type: 'progress', phase: `waiting for the archiver: ${st.ready} segment(s) wait`, ...(st.ready ? { done: 0, total: st.ready, unit: 'segments' as const } : {}) });
            await sleep(500, undefined, { signal: ctx.signal });
            st = await c.archiver(seg);
          }
          const ok = st.ready === 0 && st.archived;
          return ok
            ? { ok: true, detail: `archiving works again: the backlog drained and ${st.lastArchived} is archived` }
            : { ok: false, detail: `archiving has not caught up within ${CATCH_UP_MS / 1000} s: ${st.ready} segment(s) still wait (.ready), last archived ${st.lastArchived ?? 'none'}` };
        }),
      );
      score = scoreRecovery({ session, caughtUp, now: new Date() });
    } else {
      if (!session.restore) throw noRestoreYet();
      const restoredTarget: Target = { ...target, host: '127.0.0.1', port: session.restore!.port };
      const restored = await ctx.step(`check ${TRAINING_TABLE} in the restored server on port ${session.restore!.port}`, () =>
        withServer(restoredTarget, (c) => c.tableStat(TRAINING_TABLE)),
      );
      score = scoreRecovery({ session, restored, now: new Date() });
    }
    saveSession(configDir, { ...session, score });
    return score;
  }, signal);
}

/**
 * Ends the session: the restored server (if the trainee left it running) is stopped, archiving
 * is repaired, and the sandbox's table is put back as the sample had it.
 */
export function startEndTraining(configDir: string, name: string, signal?: AbortSignal): Job<TrainingSession> {
  const target = trainingTarget(configDir, name);
  const s = readTrainingSession(configDir, name);
  if (!s) throw invalid(`No training session on "${name}" to end.`);
  return startJob(async (ctx) => {
    const pid = s.restore?.pid;
    if (pid !== undefined && s.restore?.dataDir && pidMatches(pid, s.restore.dataDir)) {
      await ctx.step(`stop the restored server (pid ${pid})`, async () => {
        // SIGINT is PostgreSQL's fast shutdown.
        signalProcess(pid, 'SIGINT');
        if (!(await waitForPidExit(pid, 15_000)) && isPidAlive(pid)) signalProcess(pid, 'SIGKILL', { tree: true });
      });
      ctx.emit({ type: 'log', level: 'info', text: `its files stay in ${s.restore.dataDir}` });
    }
    await withServer(target, async (c) => {
      if ((await c.archiveCommand()) !== s.archiveCommand && s.archiveCommand) {
        await ctx.step('put archive_command back', () => c.setArchiveCommand(s.archiveCommand!));
      }
      if (disasterInfo(s.kind).recovery === 'restore') await ctx.step(`put ${TRAINING_TABLE} back as the sample had it`, () => c.resetTrainingTable());
    });
    rmSync(sessionFile(configDir, name), { force: true });
    return s;
  }, signal);
}
