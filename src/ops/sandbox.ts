import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import { DbdrillError, invalid } from '../errors.js';
import { writeFileAtomic } from '../repo/atomic.js';
import {
  parseSandboxInfo, sandboxInfo, sandboxStatus, stopSandbox,
  type SandboxEngine, type SandboxInfo, type SandboxStatus,
} from '../sandbox/index.js';
import { startJob, type Job } from './job.js';
import { sandboxTarget } from './sandbox-target.js';
import { sandboxParent } from '../sandbox/dirs.js';
import { serverAccount } from '../sandbox/users.js';
import { blockedFor, cliEntry } from '../wal/command.js';
import type { EngineSandbox } from '../engines/contract.js';
import { engineEntry, engineFor } from '../engines/registry.js';
import { setUpMethod } from './targets.js';
import { recordSandboxRepo, removeSandboxLeftovers, sandboxLeftovers, stopSandboxRestores, type Leftover } from './sandbox-leftovers.js';

/**
 * "The sandbox": one long-lived training instance per engine that `dbdrill sandbox start` and the
 * console's first run create. Its description lives in the config dir so later commands (stop,
 * status, backups) find it; it is registered as an ordinary target so every screen works on it.
 */
export const SANDBOX_TARGET: Record<SandboxEngine, string> = { postgres: 'sandbox', mysql: 'sandbox-mysql' };

function stateDir(configDir: string): string {
  return join(configDir, 'sandbox');
}
function stateFile(configDir: string, engine: SandboxEngine): string {
  return join(stateDir(configDir), `${engine}.json`);
}
function passwordFile(configDir: string, engine: SandboxEngine): string {
  return join(stateDir(configDir), `${engine}.password`);
}

export function readSandboxState(configDir: string, engine: SandboxEngine): SandboxInfo | undefined {
  const file = stateFile(configDir, engine);
  if (!existsSync(file)) return undefined;
  return parseSandboxInfo(JSON.parse(readFileSync(file, 'utf8')));
}

export interface SandboxReport {
  engine: SandboxEngine;
  target: Target;
  info: Omit<SandboxInfo, 'password'>;
  status: SandboxStatus;
  alreadyRunning: boolean;
}

function redact(info: SandboxInfo): Omit<SandboxInfo, 'password'> {
  const { password: _password, ...rest } = info;
  return rest;
}

export function startNamedSandbox(configDir: string, engine: SandboxEngine, opts: { port?: number; method?: string } = {}, signal?: AbortSignal): Job<SandboxReport> {
  return startJob(async (ctx) => {
    const store = new TargetStore(configDir);
    const name = SANDBOX_TARGET[engine];
    const existing = store.find(name);
    if (existing && !existing.sandbox) {
      throw new DbdrillError('duplicate-target', `A target named "${name}" exists and is not a sandbox; rename or remove it (dbdrill target remove ${name}) before starting the sandbox.`);
    }
    const previous = readSandboxState(configDir, engine);
    if (previous) {
      const status = await sandboxStatus(previous);
      if (status.running && existing) {
        if ((opts.method ?? 'native') !== (existing.method ?? 'native')) {
          throw invalid(`The ${engine} sandbox already runs with method ${existing.method ?? 'native'}; stop it (dbdrill sandbox stop${engineEntry(engine).sandboxFlag}) before starting one with method ${opts.method ?? 'native'}.`);
        }
        ctx.emit({ type: 'log', level: 'info', text: `the ${engine} sandbox already runs on port ${previous.port}` });
        return { engine, target: existing, info: redact(previous), status, alreadyRunning: true };
      }
      // A sandbox that died (reboot, kill) is replaced; its leftovers are removed first.
      await stopSandbox(previous).catch(() => {});
    }
    // A new instance is a new server (new system id): it gets a fresh repository, which its WAL
    // is archived into with wal-push, so window and point-in-time restore work on it at once.
    const sandbox = (await engineFor({ engine })).sandbox;
    const repo = await sandboxRepo(configDir, name, sandbox);
    const instance = await ctx.step(`start ${sandbox.server} sandbox`, () => sandbox.startTraining({ port: opts.port, repo, signal: ctx.signal }));
    try {
      const info = sandboxInfo(instance);
      writeFileAtomic(passwordFile(configDir, engine), `${info.password}\n`);
      writeFileAtomic(stateFile(configDir, engine), `${JSON.stringify(info, null, 2)}\n`);
      const target = sandboxTarget(info, name, repo, passwordFile(configDir, engine));
      // A trainee who breaks archiving should see Health turn WARN/CRIT within a minute, not 15.
      target.health = { archiveWarn: '20s', archiveCrit: '40s' };
      // A method of its own (pgBackRest): the target names it, the method sets itself up (conf,
      // stanza) and archive_command moves from wal-push to it, so training runs on its sets.
      // (native is the default, which the store does not keep.)
      if (opts.method !== undefined) target.method = opts.method;
      await ctx.step(`register target ${name}`, async () => {
        if (existing) store.update(name, { ...target });
        else store.add({ ...target });
      });
      const registered = store.get(name);
      if (registered.method !== undefined) {
        await setUpMethod(ctx, registered);
        await ctx.step(`archive with method ${registered.method}`, async () => (await engineFor(registered)).enableArchiving(registered, { apply: true }));
      }
      ctx.emit({ type: 'log', level: 'info', text: `sandbox ${name}: ${engine} ${info.version} on 127.0.0.1:${info.port}, database ${info.dbname}` });
      return { engine, target: store.get(name), info: redact(info), status: await sandboxStatus(info), alreadyRunning: false };
    } catch (e) {
      await instance.stop().catch(() => {});
      throw e;
    }
  }, signal);
}

/**
 * The sandbox's repository: under the config dir when the server's user can reach it there,
 * otherwise (root's config lives in /root, closed to postgres) beside the sandbox instances.
 */
async function sandboxRepo(configDir: string, name: string, sandbox: EngineSandbox): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15);
  const account = serverAccount(sandbox.account);
  let repo = join(configDir, 'repos', `${name}-${stamp}`);
  mkdirSync(dirname(repo), { recursive: true, mode: 0o700 });
  if (account && (blockedFor(repo, account.uid, account.gid) || blockedFor(cliEntry(), account.uid, account.gid))) {
    repo = join(sandboxParent(), `dbdrill-repo-${name}-${stamp}`);
  }
  mkdirSync(repo, { recursive: true, mode: 0o700 });
  // Listed for this config: sandbox stop finds it by this list, never by its name in a shared dir.
  recordSandboxRepo(configDir, name, repo);
  await sandbox.prepareRepo(repo, account);
  return repo;
}

export interface SandboxStopReport {
  stopped: boolean;
  target?: string;
  repo?: string;
  /** Restored servers of the sandbox that were still running and are stopped now. */
  restoresStopped: { name: string; port: number; pid: number }[];
  /** What is still on disk: repositories and restored directories, with sizes. */
  left: Leftover[];
  /** What --remove deleted. */
  removed: Leftover[];
}

/**
 * Stops the sandbox and every server its restores left running, then says what stays on disk
 * (its repositories and restored directories, with sizes), removing them with `remove`. Run
 * again after a stop, it still finds and removes the leftovers.
 */
export async function stopNamedSandbox(configDir: string, engine: SandboxEngine, opts: { remove?: boolean } = {}): Promise<SandboxStopReport> {
  const info = readSandboxState(configDir, engine);
  const store = new TargetStore(configDir);
  const name = SANDBOX_TARGET[engine];
  const target = store.find(name);
  const restoresStopped = (await stopSandboxRestores(configDir, name)).map((r) => ({ name: r.name, port: r.port, pid: r.pid }));
  if (info) {
    await stopSandbox(info);
    rmSync(stateFile(configDir, engine), { force: true });
    rmSync(passwordFile(configDir, engine), { force: true });
    // The target goes (nothing answers at its address any more); its repository stays unless
    // asked, backups being what a trainee may still want to look at.
    if (target?.sandbox) store.remove(name);
  }
  const found = sandboxLeftovers(configDir, name);
  if (opts.remove) removeSandboxLeftovers(configDir, name, found);
  return {
    stopped: info !== undefined,
    ...(info ? { target: name } : {}),
    ...(target?.repo ? { repo: target.repo } : {}),
    restoresStopped,
    left: opts.remove ? [] : found,
    removed: opts.remove ? found : [],
  };
}

export async function namedSandboxStatus(configDir: string, engine: SandboxEngine): Promise<{ engine: SandboxEngine; exists: boolean; status?: SandboxStatus; info?: Omit<SandboxInfo, 'password'> }> {
  const info = readSandboxState(configDir, engine);
  if (!info) return { engine, exists: false };
  return { engine, exists: true, status: await sandboxStatus(info), info: redact(info) };
}
