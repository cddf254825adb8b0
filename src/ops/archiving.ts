import { TargetStore } from '../config/store.js';
import type { ArchivingPlan, ArchivingRequest } from '../engines/contract.js';
import { engineFor } from '../engines/registry.js';

export type { ArchivingPlan } from '../engines/contract.js';

/**
 * What it takes to archive a target's log into its repository (for PostgreSQL: ALTER SYSTEM
 * statements for wal_level, archive_mode, archive_command with wal-push, archive_timeout), to show
 * and with apply to run.
 */
export async function enableArchiving(configDir: string, name: string, opts: ArchivingRequest): Promise<ArchivingPlan> {
  const target = new TargetStore(configDir).get(name);
  return (await engineFor(target)).enableArchiving(target, opts);
}
