import type { Manifest } from '../repo/manifest.js';

/** What an engine adapter adds to the manifest after its tool finished. */
export type BackupResult = Pick<Manifest, 'tool' | 'format' | 'database'> &
  Partial<Pick<Manifest, 'postgres' | 'mysql' | 'tables' | 'prior'>>;

export type ToolRecord = Manifest['tool'];

export interface ToolOutputs {
  /**
   * Files (relative to the backup directory) the tool writes strictly front to back and never
   * rewrites, so they can be checksummed while it writes them.
   */
  appendOnly?: string[];
}

/**
 * Told which tool runs and with what argv (never a secret) just before it starts, so that the
 * manifest of a run that fails or is killed still says what ran.
 */
export type RecordTool = (tool: ToolRecord, outputs?: ToolOutputs) => void;
