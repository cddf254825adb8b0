import { chownSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { RESTORE_CLAIM } from '../../../sandbox/dirs.js';
import { join, resolve } from 'node:path';
import { DbdrillError, invalid, isDbdrillError } from '../../../errors.js';
import { microsOf, pgTimestamp } from '../../../pitr/micros.js';
import type { RestoreTarget } from '../../../pitr/time.js';
import type { EngineContext } from '../../context.js';
import { forwardToolEvents } from '../../tool-events.js';
import { appendRestoredServerConfig, checkDestination, restoredServerSettings, runRecovery, type CheckedReplay, type RecoveryOutcome } from '../pitr-restore.js';
import { archiveGetCommand, streamTailRestoreCommand } from './archive.js';
import { runPgbackrest, type Pgbackrest } from './command.js';
import { CopyProgress, parseOutputLine } from './output.js';
import { damagedFilesOf, describeProblem } from './verify.js';

export interface PgbackrestRestoreRequest {
  /** The backup set to start from (the planner's choice): --set. */
  set: string;
  target: RestoreTarget;
  /** recovery_target_timeline; the planner always names one. */
  timeline?: number;
  /** Stop just before the target instead of just after it. */
  exclusive?: boolean;
  /** A new or empty directory: the restored data directory (--pg1-path). */
  dataDir: string;
  port: number;
  /**
   * The target streams: restore_command falls back to the stream's .partial for the segment
   * archive-get does not have (see streamTailRestoreCommand).
   */
  streamTail?: { repo: string; archiveDir: string };
}

/**
 * pgBackRest's recovery options for a dbdrill restore target. The time is written as native
 * restores write it (UTC, numeric offset: the setting cannot resolve zone abbreviations).
 * latest is --type=default: replay everything archived, then promote.
 */
export function recoveryTargetArgs(target: RestoreTarget, opts: { exclusive?: boolean; timeline?: number } = {}): string[] {
  const stop = (type: string, value?: string) => [
    `--type=${type}`,
    ...(value !== undefined ? [`--target=${value}`] : []),
    ...(opts.exclusive && type !== 'immediate' ? ['--target-exclusive'] : []),
    '--target-action=promote',
  ];
  let args: string[];
  switch (target.kind) {
    case 'latest':
      args = ['--type=default'];
      break;
    case 'time':
      // Every microsecond of the target, as native restores write recovery_target_time.
      args = stop('time', pgTimestamp(microsOf(target.at, target.usec)));
      break;
    case 'lsn':
      args = stop('lsn', target.lsn);
      break;
    case 'xid':
      args = stop('xid', target.xid);
      break;
    case 'name':
      args = stop('name', target.name);
      break;
    case 'immediate':
      args = stop('immediate');
      break;
    case 'gtid':
    case 'position':
      throw invalid(`--${target.kind} is a MySQL/MariaDB restore target; PostgreSQL restores take --to TIME|latest, --lsn, --xid or --name.`);
  }
  return [...args, ...(opts.timeline !== undefined ? [`--target-timeline=${opts.timeline}`] : [])];
}

/**
 * The restore's argv after the common options. archive_mode=off keeps the restored copy from
 * pushing into the production archive; restore_command is dbdrill's plain archive-get (see
 * archiveGetCommand) in place of the async one pgBackRest would write.
 */
export function restoreArgs(pb: Pick<Pgbackrest, 'tool' | 'layout' | 'stanza'>, req: PgbackrestRestoreRequest): string[] {
  const dataDir = resolve(req.dataDir);
  return [
    `--set=${req.set}`,
    `--pg1-path=${dataDir}`,
    ...recoveryTargetArgs(req.target, { exclusive: req.exclusive, timeline: req.timeline }),
    '--archive-mode=off',
    `--recovery-option=restore_command=${req.streamTail ? streamTailRestoreCommand(pb, dataDir, req.streamTail) : archiveGetCommand(pb, dataDir)}`,
    '--log-level-console=detail',
  ];
}

/**
 * Restores a backup set's files into the new directory with pgBackRest, which checks each file's
 * checksum as it writes it and writes pg_control last, so a damaged set fails before any server
 * could start on it. Returns the bytes restored.
 */
export async function pgbackrestRestoreFiles(ctx: EngineContext, pb: Pgbackrest, req: PgbackrestRestoreRequest): Promise<number> {
  const dataDir = resolve(req.dataDir);
  const args = restoreArgs(pb, req);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (pb.runAs) chownSync(dataDir, pb.runAs.uid, pb.runAs.gid);
  const copy = new CopyProgress();
  let bytes = 0;
  try {
    await runPgbackrest(pb, 'restore', args, {
      signal: ctx.signal,
      onEvent: forwardToolEvents(ctx, (e) => {
        if (e.type !== 'line') return;
        const line = parseOutputLine(e.text);
        if (line.kind === 'file') ctx.emit({ type: 'progress', phase: 'restoring files', unit: 'bytes', ...copy.update(line, performance.now()) });
        else if (line.kind === 'done') bytes = line.bytes;
      }),
    });
  } catch (e) {
    throw await nameDamagedFile(ctx, pb, req.set, dataDir, e);
  }
  // pgBackRest writes recovery.signal for every --type dbdrill uses; without it the server would
  // start as a primary on an inconsistent copy.
  if (!existsSync(join(dataDir, 'recovery.signal'))) {
    throw new DbdrillError('failed', `pgBackRest restored ${dataDir} without recovery.signal; refusing to start a server on it.`, { dataDir });
  }
  return bytes;
}

/**
 * A restore that failed on a file without naming it (pgBackRest reports a copy that no longer
 * decompresses only as "zst error: Data corruption detected") gets the file from verify --set.
 */
async function nameDamagedFile(ctx: EngineContext, pb: Pgbackrest, set: string, dataDir: string, e: unknown): Promise<unknown> {
  if (!isDbdrillError(e) || e.code === 'aborted' || e.detail?.file !== undefined || e.detail?.pgbackrestError === undefined) return e;
  const damaged = await damagedFilesOf(pb, set, ctx.signal).catch(() => []);
  if (damaged.length === 0) return e;
  const why = e.message.replace(/^pgbackrest restore failed with error \d+: (?:raised from local-\d+ protocol: )?/, '').replace(/\.$/, '');
  return new DbdrillError(
    'failed',
    `pgBackRest stopped the restore of backup set ${set} (${why}) before starting a server and left ${dataDir} for inspection: ${damaged.map(describeProblem).join('; ')}; restore from another backup.`,
    { ...e.detail, damaged },
  );
}

export interface PgbackrestPitrRequest extends PgbackrestRestoreRequest {
  /** For the comment above dbdrill's settings, and the directory's claim. */
  targetName: string;
  /** The target's repository: a restore never writes inside it. */
  repo?: string;
  serverMajor: number;
  /** What replay covers, for the progress bar (the planner's WAL range). */
  /** What replay must reach, and how it is proven (the plan's check). */
  expect: CheckedReplay;
}

export interface PgbackrestPitrOutcome extends RecoveryOutcome {
  dataDir: string;
  bytes: number;
}

/**
 * A point-in-time restore through pgBackRest into a new directory and port: refuse a used
 * directory or busy port first, restore the set's files (pgBackRest writes the recovery target,
 * promote, archive_mode=off and restore_command), add where the new server listens and logs as
 * native restores do, then start it and follow recovery to the end. The source is never touched.
 */
export async function pgbackrestPitrRestore(ctx: EngineContext, pb: Pgbackrest, req: PgbackrestPitrRequest): Promise<PgbackrestPitrOutcome> {
  const dataDir = resolve(req.dataDir);
  // Checked before any file is written.
  restoreArgs(pb, req);
  await ctx.step('check destination', () => checkDestination(dataDir, req.port, { ...(req.repo !== undefined ? { repo: req.repo } : {}), claim: { target: req.targetName, backup: req.set } }));
  const bytes = await ctx.step('restore files', () => withClaimAside(dataDir, () => pgbackrestRestoreFiles(ctx, pb, req)));
  await ctx.step('configure recovery', async () =>
    appendRestoredServerConfig(dataDir, `pgBackRest restore of ${req.targetName} from backup set ${req.set}`, restoredServerSettings(dataDir, req.port, req.serverMajor)),
  );
  const logFile = join(dataDir, 'dbdrill-restore.log');
  const outcome = await ctx.step('replay WAL', () => runRecovery(ctx, dataDir, req.serverMajor, req.expect, logFile));
  return { ...outcome, dataDir, bytes };
}

/**
 * pgBackRest restores only into an empty directory, so the claim file dbdrill took it with
 * (what `sandbox stop --remove` and the restored-server list trust) steps aside while it runs and
 * is put back, exclusively, once the files are there: a restore that claimed the directory in the
 * meantime finds pgBackRest's files and is refused, and this one fails rather than share it.
 */
async function withClaimAside<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  const file = join(dataDir, RESTORE_CLAIM);
  const claim = readFileSync(file);
  unlinkSync(file);
  const value = await fn();
  try {
    writeFileSync(file, claim, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new DbdrillError('failed', `Another restore claimed ${dataDir} while pgBackRest restored into it; the files there are mixed, remove the directory and restore again.`, { dataDir });
    throw e;
  }
  return value;
}
