import { existsSync } from 'node:fs';
import { Repository } from '../repo/repository.js';
import { TargetStore } from '../config/store.js';
import type { Target, TargetInput } from '../config/target.js';
import type { MethodFile, MethodSetup } from '../engines/contract.js';
import type { ProbeResult } from '../engines/probe-types.js';
import { startJob, type Job, type JobContext } from './job.js';
import { engineFor } from '../engines/registry.js';

/** Target use-cases shared by `dbdrill target …` and the console's Targets screen. */
export function listTargets(configDir: string): Target[] {
  return new TargetStore(configDir).list();
}

export function showTarget(configDir: string, name: string): Target {
  return new TargetStore(configDir).get(name);
}

export function addTarget(configDir: string, input: TargetInput): Target {
  const target = new TargetStore(configDir).add(input);
  // WAL archived before the first backup must be encrypted too: wal-push reads encryption.json.
  if (target.encryptTo?.length && existsSync(target.repo)) new Repository(target.repo).recordEncryption(target.encryptTo);
  return target;
}

export function removeTarget(configDir: string, name: string): Target {
  return new TargetStore(configDir).remove(name);
}

/**
 * Connects and reports version, archiving and privileges; throws one sentence when it cannot.
 * Each engine's driver is loaded only for its own targets (the registry loads engines lazily, and
 * each engine its parts): pg and mysql2 together cost a noticeable part of every command's start-up.
 */
export async function testTarget(target: Target): Promise<ProbeResult> {
  return (await engineFor(target)).probe(target);
}

/**
 * `target add` for a target whose method sets itself up (pgBackRest: the generated conf, the
 * stanza): stores the target, then runs the method's setup; a setup that fails (tool missing,
 * server unreachable, a stanza of another cluster) removes the target again, so the config never
 * names a target its method refused.
 */
export function startAddTarget(configDir: string, input: TargetInput, signal?: AbortSignal): Job<{ target: Target; setup?: MethodSetup }> {
  return startJob(async (ctx) => {
    const store = new TargetStore(configDir);
    const target = store.add(input);
    try {
      const setup = await setUpMethod(ctx, target);
      return { target, ...(setup ? { setup } : {}) };
    } catch (e) {
      store.remove(target.name);
      throw e;
    }
  }, signal);
}

/** `target edit NAME --method …`: the new settings, set up by the method; on failure the old ones stay. */
export function startEditTarget(configDir: string, name: string, changes: TargetInput, signal?: AbortSignal): Job<{ target: Target; setup?: MethodSetup }> {
  return startJob(async (ctx) => {
    const store = new TargetStore(configDir);
    const before = store.get(name);
    const target = store.update(name, { ...before, ...changes });
    try {
      const setup = await setUpMethod(ctx, target);
      return { target, ...(setup ? { setup } : {}) };
    } catch (e) {
      store.update(name, { ...before });
      throw e;
    }
  }, signal);
}

/** The method's setup, when it has one; native targets load no engine for it. */
export async function setUpMethod(ctx: JobContext, target: Target): Promise<MethodSetup | undefined> {
  if (target.method === undefined) return undefined;
  const method = (await engineFor(target)).methodOf(target);
  return method.setUp?.(ctx, target);
}

/** The files a target's method keeps (pgBackRest's generated conf), for `target show`. */
export async function methodFiles(target: Target): Promise<MethodFile[]> {
  if (target.method === undefined) return [];
  return (await engineFor(target)).methodOf(target).files?.(target) ?? [];
}
