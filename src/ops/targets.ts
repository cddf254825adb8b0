import { TargetStore } from '../config/store.js';
import type { Target, TargetInput } from '../config/target.js';
import type { ProbeResult } from '../engines/probe-types.js';
import { engineFor } from '../engines/registry.js';

/** Target use-cases shared by `dbdrill target …` and the console's Targets screen. */
export function listTargets(configDir: string): Target[] {
  return new TargetStore(configDir).list();
}

export function showTarget(configDir: string, name: string): Target {
  return new TargetStore(configDir).get(name);
}

export function addTarget(configDir: string, input: TargetInput): Target {
  return new TargetStore(configDir).add(input);
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
