import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { DbdrillError } from '../errors.js';
import { spawnDaemon } from '../runner/daemon.js';
import { isPidAlive, pidMatches, signalProcess, waitForPidExit } from '../runner/process.js';
import { runTool } from '../runner/run.js';
import { findTool } from '../runner/tools.js';
import { makeInstanceDir, makeOwnedDir, ownTree, removeSandboxDir, writeOwnedFile } from './dirs.js';
import { SANDBOX_HOST } from './ports.js';
import { unregister } from './registry.js';
import { SAMPLE_DB, sampleStatements } from './sample-data.js';
import { adoptDir, checkAbort, checkRequestedPort, failStart, launchUntilReady, type StartState } from './server.js';
import type { MariadbSandboxOptions, SandboxInfo } from './types.js';
import { randomPassword, serverAccount } from './users.js';

const LABEL = 'MariaDB';
const USER = 'dbdrill';
/** The account dbdrill adds to a server started on restored data (see MariadbSandboxOptions.populate). */
export const RESTORE_USER = 'dbdrill_restore';
/** mariadbd's creation modes for files and directories (default 0660/0700): dbdrill's are 0600/0700. */
const MODES = { UMASK: '0600', UMASK_DIR: '0700' };

export async function startMariadb(opts: MariadbSandboxOptions = {}): Promise<SandboxInfo> {
  const state: StartState = { label: LABEL, keep: opts.keep ?? false, emergencySignal: 'SIGKILL' };
  try {
    checkAbort(state, opts.signal);
    const mariadbd = await findTool(['mariadbd', 'mysqld']);
    const installDb = await findTool(['mariadb-install-db', 'mysql_install_db']);
    const account = serverAccount('mysql');
    await checkRequestedPort(LABEL, opts.port);

    const dir = makeInstanceDir('mysql', opts.baseDir, account);
    adoptDir(state, dir);
    const dataDir = join(dir, 'data');
    const logFile = join(dir, 'mariadb.log');
    const socket = join(dir, 'mysqld.sock');
    const userArg = account ? [`--user=${account.name}`] : [];
    // A private tmpdir: sandboxes starting at the same time collided on /tmp/#sql-temptable-*.
    const tmpDir = makeOwnedDir(join(dir, 'tmp'), account);
    let settings: Record<string, string> = { ...opts.settings };

    if (opts.populate) {
      if (opts.sampleData) throw new DbdrillError('sandbox', 'Sample data goes only into a new MariaDB sandbox, not into one started on restored data.');
      const found = await opts.populate(dataDir);
      if (found) settings = { ...settings, ...found };
      // Whatever wrote the files (a tool running as root, a copy) chose their owner and modes.
      ownTree(dataDir, account);
    } else {
      await runTool({
        tool: installDb,
        args: [
          // --no-defaults must come first; it keeps /etc/mysql/*.cnf out of the sandbox.
          '--no-defaults',
          `--datadir=${dataDir}`,
          // A root without password, reachable only through the socket in our 0700 directory
          // (TCP root accounts are dropped below); "socket" auth would tie root to the OS user.
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          '--skip-name-resolve',
          `--tmpdir=${tmpDir}`,
          ...userArg,
        ],
        cwd: dir,
        env: MODES,
        signal: opts.signal,
        timeoutMs: 120_000,
      });
    }

    const binlogDir = opts.binlog === false ? undefined : makeOwnedDir(join(dir, 'binlog'), account);
    // Created and chowned first: the daemon's stdout and mariadbd's --log-error share it, and
    // mariadbd opens it after switching to the mysql user.
    writeOwnedFile(logFile, '', account);
    const password = randomPassword();
    const user = opts.populate ? RESTORE_USER : USER;
    // Restored data: the account is made by the server itself at its first start (see types.ts).
    const initFile = opts.populate ? join(dir, 'init.sql') : undefined;
    if (initFile) writeOwnedFile(initFile, accountSql(user, password), account);

    const { pid, port } = await launchUntilReady({
      state,
      dir,
      logFile,
      requestedPort: opts.port,
      signal: opts.signal,
      launch: (p) => spawnDaemon({
        tool: mariadbd,
        ...(opts.title ? { argv0: opts.title } : {}),
        args: [
          '--no-defaults',
          `--datadir=${dataDir}`,
          `--port=${p}`,
          '--bind-address=127.0.0.1',
          `--socket=${socket}`,
          `--pid-file=${join(dir, 'mariadbd.pid')}`,
          `--log-error=${logFile}`,
          `--tmpdir=${tmpDir}`,
          ...userArg,
          '--innodb-buffer-pool-size=32M',
          '--skip-name-resolve',
          '--character-set-server=utf8mb4',
          '--collation-server=utf8mb4_general_ci',
          ...(binlogDir !== undefined
            ? [`--log-bin=${join(binlogDir, 'mysql-bin')}`, '--server-id=1', '--binlog-format=ROW']
            : []),
          ...(initFile ? [`--init-file=${initFile}`] : []),
          ...Object.entries(settings).map(([k, v]) => `--${k}=${v}`),
        ],
        logFile,
        cwd: dir,
        env: MODES,
      }),
      ready: (p) => (initFile ? userCanConnect(socket, user, password, p) : rootCanConnect(socket, p)),
    }).finally(() => {
      // It holds the password; the account it made lives in the grant tables from now on.
      if (initFile) rmSync(initFile, { force: true });
    });

    const version = initFile ? await serverVersion(socket, user, password) : await setUp(socket, password, opts.sampleData === true);
    const info: SandboxInfo = {
      engine: 'mysql',
      dir,
      dataDir,
      host: SANDBOX_HOST,
      port,
      user,
      password,
      dbname: opts.sampleData ? SAMPLE_DB : 'mysql',
      pid,
      socketDir: dir,
      logFile,
      ...(binlogDir !== undefined ? { binlogDir } : {}),
      version,
      keep: state.keep,
      startedAt: new Date().toISOString(),
    };
    checkAbort(state, opts.signal);
    return info;
  } catch (e) {
    return failStart(state, e, opts.signal);
  }
}

/** The account a restored data directory gets: all privileges, from 127.0.0.1 and the socket. */
function accountSql(user: string, password: string): string {
  const pw = `'${password.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return ['127.0.0.1', 'localhost']
    .flatMap((host) => [
      `CREATE OR REPLACE USER '${user}'@'${host}' IDENTIFIED BY ${pw};`,
      `GRANT ALL PRIVILEGES ON *.* TO '${user}'@'${host}' WITH GRANT OPTION;`,
    ])
    .join('\n') + '\n';
}

async function userCanConnect(socketPath: string, user: string, password: string, pid: number): Promise<boolean> {
  if (!isPidAlive(pid)) return false;
  const conn = await mysql.createConnection({ socketPath, user, password, connectTimeout: 2_000 });
  await conn.end();
  return true;
}

async function serverVersion(socketPath: string, user: string, password: string): Promise<string> {
  const conn = await mysql.createConnection({ socketPath, user, password });
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
    return String(rows[0]?.v ?? '').replace(/-.*$/, '');
  } finally {
    await conn.end();
  }
}

async function rootCanConnect(socketPath: string, pid: number): Promise<boolean> {
  if (!isPidAlive(pid)) return false;
  const conn = await mysql.createConnection({ socketPath, user: 'root', connectTimeout: 2_000 });
  await conn.end();
  return true;
}

/** Creates the dbdrill user and the sample schema; returns the server's version. */
async function setUp(socketPath: string, password: string, sampleData: boolean): Promise<string> {
  const conn = await mysql.createConnection({ socketPath, user: 'root', multipleStatements: false });
  try {
    // 127.0.0.1 for TCP (names are not resolved), localhost for the socket.
    for (const host of ['127.0.0.1', 'localhost']) {
      await conn.query('CREATE USER ?@? IDENTIFIED BY ?', [USER, host, password]);
      await conn.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [USER, host]);
    }
    // mariadb-install-db also made password-less root accounts reachable over TCP.
    const [roots] = await conn.query<mysql.RowDataPacket[]>(
      "SELECT User AS user, Host AS host FROM mysql.user WHERE User = 'root' AND Host <> 'localhost'",
    );
    for (const r of roots) await conn.query('DROP USER ?@?', [r.user, r.host]);

    if (sampleData) {
      await conn.query(`CREATE DATABASE ${SAMPLE_DB} CHARACTER SET utf8mb4`);
      await conn.query(`USE ${SAMPLE_DB}`);
      await conn.beginTransaction();
      for (const sql of sampleStatements('mysql')) await conn.query(sql);
      await conn.commit();
    }
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
    // "10.11.18-MariaDB-0+deb12u1-log" -> "10.11.18"
    return String(rows[0]?.v ?? '').replace(/-.*$/, '');
  } finally {
    await conn.end();
  }
}

/** SIGTERM is mariadbd's clean shutdown; SIGKILL only if it has not finished after 30 s. */
export async function stopMariadb(info: SandboxInfo): Promise<void> {
  const pid = info.pid;
  if (pidMatches(pid, info.dataDir)) {
    signalProcess(pid, 'SIGTERM');
    if (!(await waitForPidExit(pid, 30_000))) {
      signalProcess(pid, 'SIGKILL', { tree: true });
      if (!(await waitForPidExit(pid, 5_000))) {
        throw new DbdrillError('sandbox', `The MariaDB sandbox server (pid ${pid}) did not stop even after SIGKILL; stop it by hand with "kill -9 ${pid}" and remove ${info.dir}.`, { pid, dir: info.dir });
      }
    }
  }
  unregister(info.dir);
  if (!info.keep) removeSandboxDir(info.dir);
}
