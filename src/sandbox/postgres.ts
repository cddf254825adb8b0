import { appendFileSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import pg from 'pg';
import { DbdrillError } from '../errors.js';
import { spawnDaemon } from '../runner/daemon.js';
import { isPidAlive, pidMatches, signalProcess, waitForPidExit } from '../runner/process.js';
import { runTool } from '../runner/run.js';
import { findTool } from '../runner/tools.js';
import { makeInstanceDir, makeOwnedDir, removeSandboxDir, writeOwnedFile } from './dirs.js';
import { isAccepting, SANDBOX_HOST } from './ports.js';
import { unregister } from './registry.js';
import { SAMPLE_DB, sampleStatements } from './sample-data.js';
import { adoptDir, checkAbort, checkRequestedPort, failStart, killServer, launchUntilReady, type StartState } from './server.js';
import type { PostgresSandboxOptions, SandboxInfo } from './types.js';
import { isRoot, randomPassword, serverAccount, type Account } from './users.js';

const LABEL = 'PostgreSQL';
const SUPERUSER = 'dbdrill';
/** The C locale: fast initdb, byte-order collation, and log lines in English for parsing. */
const C_LOCALE = { LC_ALL: 'C', LANG: 'C' };

export async function startPostgres(opts: PostgresSandboxOptions = {}): Promise<SandboxInfo> {
  const state: StartState = { label: LABEL, keep: opts.keep ?? false, emergencySignal: 'SIGQUIT' };
  try {
    checkAbort(state, opts.signal);
    const initdb = await findTool('initdb');
    const postgres = await findTool('postgres', { serverMajor: initdb.major });
    const account = serverAccount('postgres');
    await checkRequestedPort(LABEL, opts.port);

    const dir = makeInstanceDir('pg', opts.baseDir, account);
    adoptDir(state, dir);
    const dataDir = join(dir, 'data');
    const logFile = join(dir, 'postgres.log');
    const password = randomPassword();
    await initCluster(initdb, dir, dataDir, password, account, opts.signal, opts.walSegmentMB);

    let archiveDir: string | undefined;
    let archiveCommand: string | undefined;
    if (opts.archive === true) {
      archiveDir = makeOwnedDir(join(dir, 'archive'), account);
      // Never overwrite an archived segment (the documented `test ! -f` guard), and copy under
      // a temporary name first: a reader never sees half a segment, and a copy cut short by a
      // crash cannot block the guard forever.
      const a = shq(archiveDir);
      archiveCommand = `test ! -f ${a}/%f && cp %p ${a}/%f.part && mv ${a}/%f.part ${a}/%f`;
    } else if (opts.archive && typeof opts.archive === 'object') {
      archiveCommand = opts.archive.command;
    }
    appendFileSync(join(dataDir, 'postgresql.conf'), configBlock(dir, archiveCommand, opts.settings));
    writeOwnedFile(logFile, '', account);

    const { pid, port } = await launchUntilReady({
      state,
      dir,
      logFile,
      requestedPort: opts.port,
      signal: opts.signal,
      launch: (p) => spawnDaemon({
        tool: postgres,
        // The port is an argument, not a setting, so a retry on another port needs no rewrite.
        args: ['-D', dataDir, '-p', String(p)],
        logFile,
        cwd: dir,
        env: C_LOCALE,
        uid: account?.uid,
        gid: account?.gid,
      }),
      ready: async (p, port) => postmasterStatus(dataDir, p) === 'ready' && (await isAccepting(port)),
    });

    const info: SandboxInfo = {
      engine: 'postgres',
      dir,
      dataDir,
      host: SANDBOX_HOST,
      port,
      user: SUPERUSER,
      password,
      dbname: opts.sampleData ? SAMPLE_DB : 'postgres',
      pid,
      socketDir: dir,
      logFile,
      ...(archiveDir !== undefined ? { archiveDir } : {}),
      version: postgres.version,
      keep: state.keep,
      startedAt: new Date().toISOString(),
    };
    if (opts.sampleData) await loadSample(info);
    checkAbort(state, opts.signal);
    return info;
  } catch (e) {
    return failStart(state, e, opts.signal);
  }
}

async function initCluster(
  initdb: Awaited<ReturnType<typeof findTool>>,
  dir: string,
  dataDir: string,
  password: string,
  account: Account | undefined,
  signal: AbortSignal | undefined,
  walSegmentMB: number | undefined,
): Promise<void> {
  // initdb reads the superuser's password from a file so it never shows in argv.
  const pwfile = join(dir, '.initdb-password');
  writeOwnedFile(pwfile, `${password}\n`, account);
  try {
    await runTool({
      tool: initdb,
      args: [
        '-D', dataDir,
        '-U', SUPERUSER,
        `--pwfile=${pwfile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--data-checksums',
        '--encoding=UTF8',
        '--locale=C',
        // Skips only initdb's final flush of the new files: a throw-away cluster that a crash
        // would lose anyway. The running server keeps fsync on, so durability claims hold.
        '--no-sync',
        ...(walSegmentMB !== undefined ? [`--wal-segsize=${walSegmentMB}`] : []),
      ],
      cwd: dir,
      env: C_LOCALE,
      uid: account?.uid,
      gid: account?.gid,
      signal,
      timeoutMs: 120_000,
    });
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Shell single-quoting for paths inside archive_command. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** postgresql.conf accepts every value quoted, whatever its type. */
function confValue(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

function configBlock(dir: string, archiveCommand: string | undefined, extra: Record<string, string> | undefined): string {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    // Sockets (and their lock files) in the instance dir, not /var/run/postgresql: no clash with
    // a packaged server or other sandboxes, and gone with the directory.
    unix_socket_directories: dir,
    unix_socket_permissions: '0700',
    // Shows in every process title, which ties backends to their sandbox.
    cluster_name: basename(dir),
    wal_level: 'replica',
    max_wal_senders: '4',
    shared_buffers: '32MB',
    logging_collector: 'off',
    log_destination: 'stderr',
    log_line_prefix: '%m [%p] ',
    lc_messages: 'C',
    archive_mode: archiveCommand !== undefined ? 'on' : 'off',
    ...(archiveCommand !== undefined ? { archive_command: archiveCommand } : {}),
    ...extra,
  };
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${confValue(v)}`);
  return `\n# Added by dbdrill sandbox; later lines win.\n${lines.join('\n')}\n`;
}

/**
 * The postmaster's own account of its state (line 8 of postmaster.pid, as pg_ctl -w reads it),
 * or undefined when the file is missing or belongs to another postmaster.
 */
function postmasterStatus(dataDir: string, pid: number): string | undefined {
  const lines = readPostmasterPid(dataDir);
  if (!lines || Number(lines[0]) !== pid) return undefined;
  return lines[7]?.trim();
}

function readPostmasterPid(dataDir: string): string[] | undefined {
  try {
    return readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
}

async function loadSample(info: SandboxInfo): Promise<void> {
  // Over TCP with the password, so the sandbox is known to accept what its users will send.
  const base = { host: info.host, port: info.port, user: info.user, password: info.password };
  const admin = new pg.Client({ ...base, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${SAMPLE_DB}`);
  } finally {
    await admin.end();
  }
  const shop = new pg.Client({ ...base, database: SAMPLE_DB });
  await shop.connect();
  try {
    await shop.query('BEGIN');
    for (const sql of sampleStatements('postgres')) await shop.query(sql);
    await shop.query('COMMIT');
    await shop.query('ANALYZE');
  } finally {
    await shop.end();
  }
}

/**
 * Stops a sandbox described only by its info (possibly started by another process): pg_ctl's
 * fast shutdown first, signals if that fails, then the directory goes (unless keep).
 */
export async function stopPostgres(info: SandboxInfo): Promise<void> {
  const fromFile = Number(readPostmasterPid(info.dataDir)?.[0]);
  const pid = Number.isInteger(fromFile) && fromFile > 0 ? fromFile : info.pid;
  if (pidMatches(pid, info.dataDir)) {
    await pgCtlStop(info).catch(() => undefined);
    if (isPidAlive(pid)) {
      // SIGINT is the fast shutdown pg_ctl would have sent; then immediate (SIGQUIT) and SIGKILL,
      // the last only as a last resort: a SIGKILLed postmaster leaks its SysV shared memory.
      signalProcess(pid, 'SIGINT');
      if (!(await waitForPidExit(pid, 10_000)) && !(await killServer(pid, 'SIGQUIT'))) {
        throw new DbdrillError('sandbox', `The PostgreSQL sandbox server (pid ${pid}) did not stop even after SIGKILL; stop it by hand with "kill -9 ${pid}" and remove ${info.dir}.`, { pid, dir: info.dir });
      }
    }
  }
  unregister(info.dir);
  if (!info.keep) removeSandboxDir(info.dir);
}

async function pgCtlStop(info: SandboxInfo): Promise<void> {
  if (!existsSync(join(info.dataDir, 'postmaster.pid'))) return;
  const major = Number(info.version.split('.')[0]);
  const pgCtl = await findTool('pg_ctl', Number.isFinite(major) ? { serverMajor: major } : {});
  // As root, act as whoever owns the data directory, as the server itself does.
  const owner = isRoot() ? statSync(info.dataDir) : undefined;
  await runTool({
    tool: pgCtl,
    args: ['stop', '-D', info.dataDir, '-m', 'fast', '-w', '-t', '30'],
    cwd: info.dir,
    env: C_LOCALE,
    uid: owner?.uid,
    gid: owner?.gid,
    timeoutMs: 40_000,
  });
}
