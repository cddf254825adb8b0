import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxParent } from '../sandbox/dirs.js';
import { listRestoredServers, removeRestoredServer, stopRestoredServer, treeBytes, type RestoredServerState } from './restored-servers.js';

/** Something a sandbox or one of its restores left on disk, and how big it is. */
export interface Leftover {
  what: 'repository' | 'restore';
  path: string;
  bytes: number;
  /** The restored server's name (restores only). */
  name?: string;
}

const REPO_MARKS = ['repo.json', 'wal', 'binlog'];

/**
 * The sandbox's repositories, this instance's and those of instances before it: named
 * <sandbox>-<stamp> under <config>/repos, or dbdrill-repo-<sandbox>-<stamp> beside the sandboxes
 * when the server's user could not reach the config dir (see sandboxRepo in sandbox.ts).
 */
function sandboxRepos(configDir: string, name: string): string[] {
  const own = new RegExp(`^${name}-\\d{8}T\\d{6}$`);
  const beside = new RegExp(`^dbdrill-repo-${name}-\\d{8}T\\d{6}$`);
  const found: string[] = [];
  for (const [dir, re] of [[join(configDir, 'repos'), own], [sandboxParent(), beside]] as const) {
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir)) {
      // Only a directory laid out as a dbdrill repository counts (before its first backup it
      // holds only the archive the sandbox's server writes to).
      if (re.test(e) && REPO_MARKS.some((m) => existsSync(join(dir, e, m)))) found.push(join(dir, e));
    }
  }
  return found;
}

/** Stops every restored server of the sandbox target that still runs; returns those it stopped. */
export async function stopSandboxRestores(configDir: string, name: string): Promise<RestoredServerState[]> {
  const stopped: RestoredServerState[] = [];
  for (const r of listRestoredServers(configDir, name).filter((s) => s.running)) stopped.push(await stopRestoredServer(configDir, r.name));
  return stopped;
}

/** What the sandbox and its restores left on disk, biggest first. */
export function sandboxLeftovers(configDir: string, name: string): Leftover[] {
  const restores: Leftover[] = listRestoredServers(configDir, name)
    .filter((r) => !r.running)
    .map((r) => ({ what: 'restore', path: r.dir, bytes: r.bytes, name: r.name }));
  const repos: Leftover[] = sandboxRepos(configDir, name).map((path) => ({ what: 'repository', path, bytes: treeBytes(path) }));
  return [...repos, ...restores].sort((a, b) => b.bytes - a.bytes);
}

/** Removes what sandboxLeftovers found (a restore only through its record's checks). */
export function removeSandboxLeftovers(configDir: string, name: string, left: Leftover[]): void {
  const records = listRestoredServers(configDir, name);
  for (const l of left) {
    if (l.what === 'repository') rmSync(l.path, { recursive: true, force: true, maxRetries: 2, retryDelay: 100 });
    else {
      const rec = records.find((r) => r.name === l.name);
      if (rec) removeRestoredServer(configDir, rec);
    }
  }
}
