import { statfsSync } from 'node:fs';
import type { Target } from '../config/target.js';
import type { HealthCheck } from '../health/status.js';
import { Repository } from '../repo/repository.js';
import { policyChecks } from '../strategy/policy-checks.js';
import { measuredSizes } from '../strategy/sizes.js';
import { readServed } from './schedule-state.js';

/**
 * What health adds for a target with a policy (dbdrill health, --prom, the console's Health screen):
 * gathers the run log, the catalog and the repository's free space, and asks policyChecks.
 */
export function policyHealth(configDir: string, target: Target, now = new Date()): HealthCheck[] {
  if (!target.policy) return [];
  const manifests = new Repository(target.repo).catalog().manifests;
  const complete = manifests.filter((m) => m.status === 'complete' && m.type === 'full');
  const sizes = measuredSizes(manifests);
  let freeBytes: number | undefined;
  try {
    const s = statfsSync(target.repo);
    freeBytes = s.bavail * s.bsize;
  } catch {
    // no repository yet: nothing to compare
  }
  return policyChecks({
    target: target.name,
    policy: target.policy,
    now,
    served: readServed(configDir, target, manifests),
    diffs: manifests.filter((m) => m.status === 'complete' && m.kind === 'physical' && m.type === 'diff').length,
    fulls: { physical: complete.filter((m) => m.kind === 'physical').length, logical: complete.filter((m) => m.kind === 'logical').length },
    ...((sizes.full ?? sizes.logical) !== undefined ? { nextFullBytes: sizes.full ?? sizes.logical } : {}),
    ...(freeBytes !== undefined ? { freeBytes } : {}),
  });
}
