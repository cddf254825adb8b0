import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where targets are kept: --config DIR, else DBDRILL_CONFIG_DIR, else the XDG default.
 * Resolved once per command so every part of a run reads the same catalog.
 */
export function resolveConfigDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.DBDRILL_CONFIG_DIR) return env.DBDRILL_CONFIG_DIR;
  const xdg = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(xdg, 'dbdrill');
}
