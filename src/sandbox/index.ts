import { isAbsolute, join } from 'node:path';
import { DbdrillError, isDbdrillError } from '../errors.js';
import { pidMatches } from '../runner/process.js';
import { startMariadb, stopMariadb } from './mariadb.js';
import { isAccepting } from './ports.js';
import { startPostgres, stopPostgres } from './postgres.js';
import { unregister } from './registry.js';
import type {
  MariadbSandboxOptions, PostgresSandboxOptions, SandboxEngine, SandboxInfo, SandboxInstance, SandboxStatus,
} from './types.js';

export type {
  CommonSandboxOptions, MariadbSandboxOptions, PostgresSandboxOptions, SandboxEngine, SandboxInfo, SandboxInstance,
  SandboxStatus,
} from './types.js';
export { SAMPLE_COUNTS, SAMPLE_DB, sampleSummary } from './sample-data.js';
export { SANDBOX_PARENT_ENV, SANDBOX_PREFIX } from './dirs.js';

/** A throw-away PostgreSQL on 127.0.0.1: superuser dbdrill, scram passwords, data checksums. */
export async function startPostgresSandbox(opts: PostgresSandboxOptions = {}): Promise<SandboxInstance> {
  return toInstance(await startPostgres(opts), opts.detach);
}

/** A throw-away MariaDB on 127.0.0.1: user dbdrill with all privileges, binary logs on. */
export async function startMariadbSandbox(opts: MariadbSandboxOptions = {}): Promise<SandboxInstance> {
  return toInstance(await startMariadb(opts), opts.detach);
}

export function startSandbox(engine: SandboxEngine, opts: PostgresSandboxOptions & MariadbSandboxOptions = {}): Promise<SandboxInstance> {
  return engine === 'postgres' ? startPostgresSandbox(opts) : startMariadbSandbox(opts);
}

/** Stops the server and removes its directory (unless keep). Works from the JSON info alone and
 *  does nothing when the sandbox is already gone. */
export async function stopSandbox(info: SandboxInfo): Promise<void> {
  const checked = parseSandboxInfo(info);
  try {
    if (checked.engine === 'postgres') await stopPostgres(checked);
    else await stopMariadb(checked);
  } catch (e) {
    if (isDbdrillError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'EACCES') {
      throw new DbdrillError(
        'sandbox',
        `dbdrill is not allowed to stop or remove the sandbox in ${checked.dir} because it belongs to another user; run the command as the user who started it, or as root.`,
        { dir: checked.dir, pid: checked.pid },
      );
    }
    throw e;
  }
}

export async function sandboxStatus(info: SandboxInfo): Promise<SandboxStatus> {
  const checked = parseSandboxInfo(info);
  const pidAlive = pidMatches(checked.pid, checked.dataDir);
  const accepting = pidAlive && (await isAccepting(checked.port));
  return { running: pidAlive && accepting, pidAlive, accepting };
}

/** The server's Unix socket (PostgreSQL names it after the port; MariaDB's is mysqld.sock). */
export function socketPath(info: SandboxInfo): string {
  return info.engine === 'postgres' ? `${info.socketDir}/.s.PGSQL.${info.port}` : `${info.socketDir}/mysqld.sock`;
}

/** The serializable part of an instance (what `sandbox start` writes for `sandbox stop`). */
export function sandboxInfo(instance: SandboxInfo): SandboxInfo {
  const { stop: _stop, ...info } = instance as SandboxInstance;
  return info;
}

/** Checks JSON read back from disk before anything acts on it (it names pids to signal). */
export function parseSandboxInfo(value: unknown): SandboxInfo {
  const v = value as Partial<Record<keyof SandboxInfo, unknown>> | null;
  const bad = (what: string) =>
    new DbdrillError('invalid-input', `The sandbox description is not usable (${what}); start a new sandbox with "dbdrill sandbox start".`);
  if (typeof v !== 'object' || v === null) throw bad('not an object');
  if (v.engine !== 'postgres' && v.engine !== 'mysql') throw bad('engine must be postgres or mysql');
  for (const k of ['dir', 'dataDir', 'user', 'password', 'dbname', 'socketDir', 'logFile', 'version', 'startedAt'] as const) {
    if (typeof v[k] !== 'string') throw bad(`${k} is missing`);
  }
  if (!isAbsolute(v.dir as string) || v.dataDir !== join(v.dir as string, 'data')) throw bad('dataDir is not <dir>/data');
  for (const k of ['port', 'pid'] as const) {
    if (typeof v[k] !== 'number' || !Number.isInteger(v[k]) || (v[k] as number) <= 0) throw bad(`${k} is not a positive whole number`);
  }
  return { ...(v as SandboxInfo), host: '127.0.0.1', keep: v.keep === true };
}

function toInstance(info: SandboxInfo, detach: boolean | undefined): SandboxInstance {
  // A detached server must survive this process, so it leaves the exit-time kill list.
  if (detach) unregister(info.dir);
  let stopping: Promise<void> | undefined;
  return {
    ...info,
    stop() {
      // Concurrent or repeated calls share one stop; a failed stop may be retried.
      stopping ??= stopSandbox(info).catch((e: unknown) => {
        stopping = undefined;
        throw e;
      });
      return stopping;
    },
  };
}
