import { spawn } from 'node:child_process';

/**
 * Starts a program that outlives this process, with no output and no handle held: for the WAL
 * archive's worker, on wal-push's path, which must not load execa or the tool lookup (daemon.ts
 * is the same for servers, with a log file and a looked-up tool).
 */
export function spawnDetached(path: string, args: string[]): number | undefined {
  const child = spawn(path, args, { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  return child.pid;
}
