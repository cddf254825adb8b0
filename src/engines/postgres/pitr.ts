import { join, resolve } from 'node:path';
import type { Target } from '../../config/target.js';
import type { EngineContext } from '../context.js';
import { checkDestination, replayedReport, runRecovery, stopShortRecovery, unpackBaseBackup, writeRecoveryConfig } from './pitr-restore.js';
import { lastCommitInSegment } from './waldump.js';
import { invalid } from '../../errors.js';
import { readInventory, type WalInventory } from '../../pitr/inventory.js';
import { planRestore, type PgRestorePlan } from '../../pitr/plan.js';
import { replayCheckOf } from '../../pitr/reached.js';
import { timelineOfSegment, type Leg } from '../../pitr/timelines.js';
import { DEFAULT_SEGMENT_BYTES, isSegmentSize, parseSegment, segmentName, timelineHex } from '../../pitr/wal-names.js';
import { parseHistory, type HistoryEntry } from '../../pitr/history.js';
import { baseBackups, computeWindow, reachableCoverages, type ArchiveFacts, type CommitPoint, type RecoverableWindow } from '../../pitr/window.js';
import type { Manifest } from '../../repo/manifest.js';
import { Repository } from '../../repo/repository.js';
import { checkRepositoryKey } from '../../repo/sealed-read.js';
import { restoreCommand } from '../../wal/command.js';
import { findArchived, walRoot } from '../../wal/layout.js';
import { NoKeyForWal, readArchivedFile, withPlainSegments } from '../../wal/readable.js';
import { streamPartials, withStreamPartials } from '../../wal/stream-dir.js';
import type { PitrReport, PitrRequest } from '../restore-types.js';

/** How far back pg_waldump looks for a commit when the newest segments hold none (idle server). */
const COMMIT_LOOKBACK = 64;

export interface ArchiveView {
  manifests: Manifest[];
  inventory: WalInventory;
  window: RecoverableWindow;
  lastCommit: (timeline: number, seg: number) => CommitPoint | undefined;
  /** A timeline's archived history file, parsed; undefined when it is not archived. */
  history: (timeline: number) => HistoryEntry[] | undefined;
  /** The segment size and the histories, as the planner reads them. */
  facts: ArchiveFacts;
}

/**
 * The cluster's WAL segment size: what wal-push recorded in repo.json, else what the backups
 * recorded; 16 MiB only for an archive that says nothing (one written before either recorded it).
 * Two different sizes mean two clusters share the repository, which no plan can be made from.
 */
export function archiveSegmentBytes(repo: Repository, manifests: Manifest[]): number {
  const sources: { size: number; from: string }[] = [];
  const recorded = repo.info()?.walSegmentBytes;
  if (typeof recorded === 'number') sources.push({ size: recorded, from: `${join(repo.root, 'repo.json')}` });
  for (const m of baseBackups(manifests)) {
    if (m.postgres?.walSegmentBytes !== undefined) sources.push({ size: m.postgres.walSegmentBytes, from: `backup ${m.id}` });
  }
  for (const s of sources) {
    if (!isSegmentSize(s.size)) throw invalid(`${s.from} records a WAL segment size of ${s.size} bytes, which PostgreSQL never uses (a power of two from 1 MiB to 1 GiB); fix or remove that value.`);
  }
  const differ = sources.find((s) => s.size !== sources[0]!.size);
  if (differ) {
    throw invalid(`${sources[0]!.from} records WAL segments of ${sources[0]!.size} bytes but ${differ.from} ${differ.size} bytes: two clusters share the repository ${repo.root}; give each its own --repo.`);
  }
  return sources[0]?.size ?? DEFAULT_SEGMENT_BYTES;
}

/**
 * withPlainSegments numbers segments as 16 MiB ones do; this is the number that names `segment`
 * there, or undefined when that numbering cannot name it (more than 256 segments per log id).
 */
function legacySegNo(segment: string): number | undefined {
  const s = parseSegment(segment)!;
  return segmentName(s) === segment ? s.segNo : undefined;
}

/** The newest commit in an archived segment of a path, or undefined (not archived, or no commit in it). */
async function commitIn(repo: string, legs: Leg[], segNo: number, segmentBytes: number, serverMajor: number): Promise<CommitPoint | undefined> {
  const timeline = timelineOfSegment(legs, segNo);
  const name = segmentName({ timeline, segNo }, segmentBytes);
  const here = legacySegNo(name);
  if (here === undefined) return undefined;
  // The next segment too, when it is archived and the path reads it from the same timeline: a
  // commit record may continue into it. pg_waldump is told where to stop (an archive's timeline
  // directory goes on past a branch point the path leaves it at), and refuses an end segment it
  // cannot open.
  const nextName = segmentName({ timeline, segNo: segNo + 1 }, segmentBytes);
  const next = timelineOfSegment(legs, segNo + 1) === timeline && (findArchived(repo, nextName) || streamPartials(repo).includes(nextName)) ? legacySegNo(nextName) : undefined;
  const last = next === undefined ? name : nextName;
  try {
    return await withPlainSegments(repo, timeline, next === undefined ? [here] : [here, next], (dir) => lastCommitInSegment(dir, name, last, serverMajor));
  } catch (e) {
    // An encrypted archive read without the key (window, catalog, health): commits inside it are
    // not known, so the window ends where the backups say; a restore asks for the key first.
    if (e instanceof NoKeyForWal) return undefined;
    throw e;
  }
}

/**
 * Everything a window or plan needs, read from the repository. pg_waldump is asked only about the
 * last segment of each backup's gap-free run along each timeline it reaches (walking back through
 * commit-less segments).
 */
export async function readArchive(target: Target): Promise<ArchiveView> {
  if (target.engine !== 'postgres') throw invalid(`The recoverable window of MySQL/MariaDB targets is not built yet; target "${target.name}" is ${target.engine}.`);
  const repo = new Repository(target.repo);
  const { manifests } = repo.catalog();
  const segmentBytes = archiveSegmentBytes(repo, manifests);
  // The segment `dbdrill stream` is receiving extends the archive to the last streamed commit.
  const inventory = withStreamPartials(readInventory(walRoot(target.repo), segmentBytes), target.repo, segmentBytes);
  const histories = new Map<number, HistoryEntry[] | undefined>();
  const history = (tl: number) => {
    if (!histories.has(tl)) histories.set(tl, readHistory(target.repo, tl));
    return histories.get(tl);
  };
  const facts: ArchiveFacts = { segmentBytes, history };
  const known = new Map<string, CommitPoint | undefined>();
  for (const m of baseBackups(manifests)) {
    const major = Number(m.serverVersion.split('.')[0]);
    for (const c of reachableCoverages(m, inventory, () => undefined, facts)) {
      if (c.endSeg === undefined || c.endTimeline === undefined) continue;
      const key = `${c.endTimeline}:${c.endSeg}`;
      if (known.has(key)) continue;
      let found: CommitPoint | undefined;
      for (let seg = c.endSeg; seg >= Math.max(c.startSeg, c.endSeg - COMMIT_LOOKBACK) && !found; seg--) {
        found = await commitIn(target.repo, c.path.legs, seg, segmentBytes, major);
      }
      known.set(key, found);
    }
  }
  const lastCommit = (tl: number, seg: number) => known.get(`${tl}:${seg}`);
  return { manifests, inventory, lastCommit, history, facts, window: computeWindow(manifests, inventory, lastCommit, facts) };
}

export function planPitr(view: ArchiveView, req: PitrRequest): PgRestorePlan {
  const plan = planRestore(req.target, view.manifests, view.inventory, view.window, view.lastCommit, { backup: req.backup, timeline: req.timeline, facts: view.facts });
  if (req.exclusive) plan.settings.recovery_target_inclusive = 'false';
  return plan;
}

/** The archived history file of a timeline, parsed, or undefined when it is not archived. */
function readHistory(repo: string, timeline: number): HistoryEntry[] | undefined {
  const data = readArchivedFile(repo, `${timelineHex(timeline)}.history`);
  return data ? parseHistory(data.toString('utf8')) : undefined;
}

/**
 * Point-in-time restore into a new directory and port: plan (refusing unsafe targets before
 * anything is written), unpack the base backup, configure recovery, replay archived WAL through
 * wal-fetch, and report the point reached. The source server is never contacted.
 */
export async function runPitrRestore(ctx: EngineContext, target: Target, req: PitrRequest): Promise<PitrReport> {
  const t0 = performance.now();
  const dataDir = resolve(req.into);
  // Point-in-time restores start from base backups: the key is tried on the newest of those.
  await checkRepositoryKey(target.repo, new Repository(target.repo).catalog().manifests.filter((m) => m.kind === 'physical'));
  const view = await ctx.step('plan', () => readArchive(target));
  const plan = planPitr(view, req);
  const { backup, ...rest } = plan;
  const planOut = { ...rest, archive: 'wal' as const, backup: backup.id };
  ctx.emit({ type: 'log', level: 'info', text: `plan: backup ${backup.id}, WAL ${plan.walFrom}…${plan.walTo} (${plan.segments} segment(s)), ${Object.entries(plan.settings).map(([k, v]) => `${k}=${v}`).join(', ')}` });
  for (const n of plan.notes) ctx.emit({ type: 'log', level: 'info', text: n });
  await ctx.step('check destination', () => checkDestination(dataDir, req.port, { repo: target.repo, ...(req.dryRun ? {} : { claim: { target: target.name, backup: backup.id } }) }));
  if (req.dryRun) return { target: target.name, plan: planOut, dataDir, port: req.port, seconds: (performance.now() - t0) / 1000, dryRun: true };

  const repo = new Repository(target.repo);
  await ctx.step('unpack base backup', () => unpackBaseBackup(ctx, repo.backupDir(backup.id), dataDir));
  await ctx.step('configure recovery', async () => writeRecoveryConfig(dataDir, backup, plan.settings, restoreCommand(target.repo), req.port, req.serverName));
  const logFile = join(dataDir, 'dbdrill-restore.log');
  const check = replayCheckOf(plan);
  const outcome = await ctx.step('replay WAL', () => runRecovery(ctx, dataDir, Number(backup.serverVersion.split('.')[0]), { segments: plan.segments, startLsn: plan.startLsn, endLsn: plan.endLsn, check }, logFile));
  // A recovery that ended early looks like a finished one to PostgreSQL: only the check tells.
  const proven = await ctx.step('check the point reached', () => stopShortRecovery(outcome, dataDir));
  ctx.emit({ type: 'log', level: 'info', text: proven });
  return {
    target: target.name,
    plan: planOut,
    dataDir,
    port: req.port,
    logFile: logFile,
    ...replayedReport(outcome, proven),
    seconds: (performance.now() - t0) / 1000,
    dryRun: false,
  };
}
