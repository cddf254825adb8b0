import { chownSync, existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, readdirSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { DbdrillError, invalid } from '../../errors.js';
import { BackupFiles } from '../../repo/backup-files.js';
import type { Manifest } from '../../repo/manifest.js';
import { checkRestoreDestination } from '../restore-destination.js';
import { spawnDaemon } from '../../runner/daemon.js';
import { identityForServer } from '../../crypto/identity.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../../runner/process.js';
import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';
import { serverAccount, type Account } from '../../sandbox/users.js';
import { judgeReplay, whereReplayStopped, type ReplayCheck, type ReplayVerdict } from '../../pitr/reached.js';
import { emptyRecovery, foldRecovery, parseRecoveryLine, type RecoveryState } from '../../pitr/recovery-log.js';
import { parseLsn } from '../../pitr/wal-names.js';
import type { EngineContext, JobEventInput } from '../context.js';
import type { PitrReport } from '../restore-types.js';
import { isoMicros } from '../../pitr/micros.js';

/**
 * Refuses a data directory the restore must not write (not empty, claimed by another restore,
 * inside the repository or a data directory, out of the postgres user's reach) or a port the
 * server cannot listen on; with `claim` (a real run, not a dry run) takes the directory.
 */
export async function checkDestination(dir: string, port: number, opts: { repo?: string; claim?: { target: string; backup?: string } } = {}): Promise<void> {
  await checkRestoreDestination({ dir, port, server: 'postgres', serverTraces: ['postmaster.pid'], ...opts });
}

/**
 * Unpacks base.tar into the data directory and the streamed WAL into its pg_wal; returns the bytes
 * read. tar reads each file from a stream checked against the manifest's sha256 as it goes, so a
 * damaged backup stops here (named, marked corrupt, the directory left as it got) before any
 * server starts on it.
 */
export async function unpackBaseBackup(ctx: EngineContext, backupDir: string, dataDir: string): Promise<number> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tar = await findTool('tar');
  const files = BackupFiles.at(backupDir).needKey();
  const stopped = `before starting a server and left ${dataDir} for inspection`;
  const unpack = (rel: string, into: string) =>
    files.read(rel, ctx.signal, stopped, (stream) => runTool({ tool: tar, args: ['-xf', '-', '-C', into], stdin: { stream }, signal: ctx.signal }));
  await unpack('base/base.tar', dataDir);
  const base = join(backupDir, 'base');
  // An encrypted backup is one tar (taken to stdout) with pg_wal/ inside it.
  if (files.encrypted) return statSync(join(base, 'base.tar')).size;
  mkdirSync(join(dataDir, 'pg_wal'), { recursive: true, mode: 0o700 });
  await unpack('base/pg_wal.tar', join(dataDir, 'pg_wal'));
  return statSync(join(base, 'base.tar')).size + statSync(join(base, 'pg_wal.tar')).size;
}

function confValue(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * Recovery settings go into postgresql.auto.conf (read last, so they win over the copied
 * postgresql.conf). archive_mode=off keeps the restored copy from archiving into the production
 * archive; recovery_target_action=promote because the default, pause, leaves it waiting silently.
 */
export function writeRecoveryConfig(dataDir: string, m: Manifest, settings: Record<string, string>, restoreCommand: string, port: number, serverName?: string): void {
  const major = Number(m.serverVersion.split('.')[0]);
  appendRestoredServerConfig(dataDir, `point-in-time restore of ${m.target} from backup ${m.id}`, {
    restore_command: restoreCommand,
    ...settings,
    recovery_target_action: 'promote',
    archive_mode: 'off',
    ...restoredServerSettings(dataDir, port, major, serverName),
  });
  writeFileSync(join(dataDir, 'recovery.signal'), '', { mode: 0o600 });
}

/**
 * Where a restored server listens and logs, whoever wrote its recovery settings (dbdrill, or
 * pgBackRest's restore): its own port on 127.0.0.1 and socket, and nothing from the source host.
 */
export function restoredServerSettings(dataDir: string, port: number, major: number, serverName?: string): Record<string, string> {
  return {
    port: String(port),
    // The copied postgresql.conf names the source's cluster (a sandbox's is dbdrill-sandbox-…):
    // without this, ps shows the restored server's processes under the source's name.
    ...(serverName ? { cluster_name: serverName } : {}),
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dataDir,
    // The copied settings may name files that exist only on the source host.
    hba_file: join(dataDir, 'pg_hba.conf'),
    ident_file: join(dataDir, 'pg_ident.conf'),
    // Our log reader follows stderr; a copied collector or csvlog setting would hide it.
    logging_collector: 'off',
    log_destination: 'stderr',
    // "redo in progress … current LSN" once a second: the replayed LSN for the progress bar.
    // Older servers refuse to start with a setting they do not know.
    ...(major >= 15 ? { log_startup_progress_interval: '1s' } : {}),
  };
}

/** Appends settings to postgresql.auto.conf under a comment, adding the files a server needs that a backup may lack. */
export function appendRestoredServerConfig(dataDir: string, comment: string, settings: Record<string, string>): void {
  // Debian keeps postgresql.conf and pg_hba.conf in /etc, so a base backup may lack them.
  if (!existsSync(join(dataDir, 'postgresql.conf'))) writeFileSync(join(dataDir, 'postgresql.conf'), '# written by dbdrill restore\n', { mode: 0o600 });
  if (!existsSync(join(dataDir, 'pg_hba.conf'))) {
    writeFileSync(join(dataDir, 'pg_hba.conf'), 'local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n', { mode: 0o600 });
  }
  if (!existsSync(join(dataDir, 'pg_ident.conf'))) writeFileSync(join(dataDir, 'pg_ident.conf'), '', { mode: 0o600 });
  const lines = [`\n# dbdrill: ${comment}`, ...Object.entries(settings).map(([k, v]) => `${k} = ${confValue(v)}`), ''];
  appendFileSync(join(dataDir, 'postgresql.auto.conf'), lines.join('\n'), { mode: 0o600 });
}

function chownTree(path: string, account: Account): void {
  chownSync(path, account.uid, account.gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), account);
}

/** What replay is expected to cover: archived segments, the LSN range where it is known, and the point it must reach. */
export interface ReplayExpectation {
  segments: number;
  startLsn?: string;
  endLsn?: string;
  check?: ReplayCheck;
}

/** Every recovery dbdrill starts is judged: it knows the point it must reach. */
export type CheckedReplay = ReplayExpectation & { check: ReplayCheck };

export interface RecoveryOutcome {
  state: RecoveryState;
  pid: number;
  logFile: string;
  /** Whether replay reached the point the check promised. */
  verdict: ReplayVerdict;
}

/**
 * Starts the restored server and follows its log until recovery ends: ready (promoted) or fatal.
 * Progress is the replayed LSN against the end of replay when that is known (the phase names
 * the segments restored so far), else the count of segments against the plan's estimate.
 */
export async function runRecovery(
  ctx: EngineContext,
  dataDir: string,
  serverMajor: number,
  expect: CheckedReplay,
  logFile: string,
  onSpawn?: (pid: number) => void,
): Promise<RecoveryOutcome> {
  const account = serverAccount('postgres');
  if (account) chownTree(dataDir, account);
  const postgres = await findTool('postgres', { serverMajor });
  writeFileSync(logFile, '', { mode: 0o600 });
  if (account) chownSync(logFile, account.uid, account.gid);
  // An encrypted archive: wal-fetch finds the identity in the server's environment.
  const identity = identityForServer(account);
  try {
    const pid = spawnDaemon({ tool: postgres, args: ['-D', dataDir], logFile, uid: account?.uid, gid: account?.gid, env: identity.env });
    onSpawn?.(pid);
    return await followRecovery(ctx, dataDir, expect, logFile, pid);
  } finally {
    identity.remove();
  }
}

async function followRecovery(ctx: EngineContext, dataDir: string, expect: CheckedReplay, logFile: string, pid: number): Promise<RecoveryOutcome> {

  let state = emptyRecovery(expect.check.segmentBytes);
  let offset = 0;
  let rest = '';
  const readNew = () => {
    const fd = openSync(logFile, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        rest += buf.subarray(0, n).toString('utf8');
      }
    } finally {
      closeSync(fd);
    }
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const parsed = parseRecoveryLine(line);
      const before = state;
      state = foldRecovery(state, parsed);
      if (parsed.kind !== 'other') ctx.emit({ type: 'tool-line', tool: 'postgres', stream: 'stderr', text: line });
      if (state.restored.length !== before.restored.length || state.replayed !== before.replayed) ctx.emit(replayProgress(state, expect));
    }
  };

  for (;;) {
    if (ctx.signal.aborted) {
      signalProcess(pid, 'SIGINT');
      await waitForPidExit(pid, 30_000);
      throw new DbdrillError('aborted', `The restore was cancelled during recovery; the server in ${dataDir} was stopped and the directory left for inspection.`);
    }
    readNew();
    if (state.ready) return { state, pid, logFile, verdict: judgeReplay(expect.check, state) };
    if (state.fatal || !isPidAlive(pid)) {
      readNew();
      await waitForPidExit(pid, 10_000);
      const why = state.fatal ?? lastLines(logFile);
      // PostgreSQL names the file it could not restore, not where replay got to or what wal-fetch said.
      const where = whereReplayStopped(expect.check, state);
      throw new DbdrillError('failed', `Recovery failed: ${why}; ${where.text}. The server log is ${logFile}.`, { logFile, ...(where.fault ? { segment: where.fault } : {}) });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A recovery that ended short of its plan (corrupt or unreadable WAL ends replay as if the archive
 * ended there, and PostgreSQL promotes anyway): the server is stopped before anyone uses it, its
 * files stay for inspection, and the restore fails saying where replay stopped and what it lacks.
 */
export async function stopShortRecovery(outcome: RecoveryOutcome, dataDir: string): Promise<string> {
  const v = outcome.verdict;
  if (v.ok) return `reached ${v.reached}`;
  signalProcess(outcome.pid, 'SIGINT');
  const stopped = await waitForPidExit(outcome.pid, 30_000);
  const server = stopped ? 'The restored server was stopped' : `The restored server (pid ${outcome.pid}) did not stop within 30 s; stop it with pg_ctl -D ${dataDir} stop -m immediate`;
  throw new DbdrillError('failed', `${v.sentence} ${server}; ${dataDir} is left for inspection and its log is ${outcome.logFile}.`, {
    logFile: outcome.logFile,
    dataDir,
    ...(v.stoppedAt ? { stoppedAt: v.stoppedAt } : {}),
    ...(v.segment ? { segment: v.segment } : {}),
  });
}

/** The progress event for where replay is now. */
export function replayProgress(state: RecoveryState, expect: ReplayExpectation): JobEventInput {
  if (expect.endLsn && state.replayed !== undefined) {
    const done = Number(state.replayed);
    const start = expect.startLsn ? Math.min(Number(parseLsn(expect.startLsn)), done) : undefined;
    return {
      type: 'progress',
      phase: `replaying WAL (${state.restored.length} of ${Math.max(expect.segments, state.restored.length)} segments restored)`,
      done,
      total: Math.max(Number(parseLsn(expect.endLsn)), done),
      unit: 'lsn',
      ...(start !== undefined ? { start } : {}),
    };
  }
  return { type: 'progress', phase: 'replaying WAL', done: state.restored.length, total: Math.max(expect.segments, state.restored.length), unit: 'segments' };
}

function lastLines(file: string): string {
  return readFileSync(file, 'utf8').trim().split('\n').slice(-2).join(' | ') || 'the server exited without a message';
}

/**
 * What a finished replay adds to a point-in-time restore's report, whichever method restored the
 * base (pg_basebackup's tar or pgBackRest): the server, the point reached and its proof, the
 * timeline it opened, the segments it read.
 */
export function replayedReport(outcome: RecoveryOutcome, proven: string): Pick<PitrReport, 'pid' | 'reached' | 'timeline' | 'segmentsRestored'> {
  const s = outcome.state;
  return {
    pid: outcome.pid,
    reached: {
      ...(s.lastCommitMicros !== undefined ? { lastCommitAt: isoMicros(s.lastCommitMicros) } : {}),
      ...(s.stoppedBefore ? { stoppedBeforeXid: s.stoppedBefore.xid, stoppedBeforeCommitAt: isoMicros(s.stoppedBefore.micros) } : {}),
      ...(s.redoDoneAt ? { redoDoneAt: s.redoDoneAt } : {}),
      proven,
    },
    ...(s.newTimeline ? { timeline: s.newTimeline } : {}),
    segmentsRestored: s.restored.length,
  };
}
