import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
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

/** Where sandboxRepo lists every repository it made for this config (one path a line). */
export function reposListFile(configDir: string, name: string): string {
  return join(configDir, 'sandbox', `${name}.repos`);
}

/** Adds a repository the sandbox of this config made to its list. */
export function recordSandboxRepo(configDir: string, name: string, repo: string): void {
  mkdirSync(join(configDir, 'sandbox'), { recursive: true, mode: 0o700 });
  appendFileSync(reposListFile(configDir, name), `${repo}\n`, { mode: 0o600 });
}

/**
 * The repositories this config's sandbox made, this instance's and earlier ones': the paths its
 * list names (never a directory found by its name alone: the temp dir holds other configs'
 * sandboxes, named alike), each still named like a sandbox repository and laid out as one.
 */
function sandboxRepos(configDir: string, name: string): string[] {
  const named = new RegExp(`^(dbdrill-repo-)?${name}-\\d{8}T\\d{6}$`);
  let listed: string[] = [];
  try {
    listed = readFileSync(reposListFile(configDir, name), 'utf8').split('\n').filter((l) => l.trim() !== '');
  } catch {
    return [];
  }
  return [...new Set(listed)].filter((p) => isAbsolute(p) && named.test(basename(p)) && REPO_MARKS.some((m) => existsSync(join(p, m))));
}

/** Forgets repositories that are gone from the list (after --remove). */
function pruneReposList(configDir: string, name: string): void {
  const file = reposListFile(configDir, name);
  if (!existsSync(file)) return;
  const left = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '' && existsSync(l));
  if (left.length === 0) rmSync(file, { force: true });
  else writeFileSync(file, `${left.join('\n')}\n`, { mode: 0o600 });
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
  pruneReposList(configDir, name);
}
