import { existsSync, readFileSync } from 'node:fs';
import type { Target } from '../../../config/target.js';
import { pgbackrestLayout } from './layout.js';

/**
 * The generated pgbackrest.conf as `target show` prints it. Small and synchronous on purpose:
 * the engine's index loads it eagerly, so it imports nothing that runs a tool.
 */
export function pgbackrestFilesSync(target: Target): { path: string; text: string }[] {
  const file = pgbackrestLayout(target.repo).confFile;
  return existsSync(file) ? [{ path: file, text: readFileSync(file, 'utf8') }] : [];
}
