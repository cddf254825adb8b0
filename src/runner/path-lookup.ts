import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Finding an executable on PATH without execa: tools.ts uses it, and so does the wal-push path,
 * which runs once per WAL segment and cannot afford execa's start-up (about 150 ms measured).
 */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function searchPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  // Server daemons live in sbin, which a non-root PATH often lacks.
  for (const extra of ['/usr/sbin', '/usr/local/sbin', '/sbin']) if (!dirs.includes(extra)) dirs.push(extra);
  for (const dir of dirs) {
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}
