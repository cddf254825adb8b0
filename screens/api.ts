import type { Target } from '../src/config/target.js';
import type { Job } from '../src/ops/job.js';

/**
 * Everything the console needs from the engine. The entry point builds it from src/ops; tests build
 * it from plain functions. Screens never reach past it, so they never import execa, pg or mysql2
 * and never run a tool themselves.
 */
export interface ConsoleApi {
  /** Where the config lives; shown in the header so the operator knows which config is open. */
  configDir: string;
  version: string;
  listTargets(): Promise<TargetRow[]>;
  /** Starts the local training PostgreSQL and adds the "sandbox" target; resolves with that target. */
  startSandbox(): Job<Target>;
}

export type ArchiverStatus = 'OK' | 'WARN' | 'CRIT' | '?';

/** A target plus what is known about it right now; a missing field is shown as "—" (unknown). */
export interface TargetRow extends Target {
  /** Age of the newest complete backup, already formatted, e.g. "3h" or "2d". */
  newestBackupAge?: string;
  archiver?: ArchiverStatus;
  /** The recoverable window, already formatted, e.g. "2d 4h" or "11-22 09:00 → now". */
  window?: string;
}
