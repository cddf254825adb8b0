import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { toolPath, type ToolCall } from './tool-call.js';

/** A server takes no password: it has no secret to pass. */
export interface DaemonSpec extends Omit<ToolCall, 'secret'> {
  /** Everything the daemon prints goes here. */
  logFile: string;
  /**
   * The process's argv[0], which `ps -o args` shows: a server that never sets its own title
   * (mariadbd) is then listed under this name. The program run is still `tool`.
   */
  argv0?: string;
}

/**
 * Starts a server that must outlive this process (`dbdrill sandbox start` returns while the
 * server keeps running): its own process group, output to a log file, no handle held open.
 * Returns the pid; callers wait for readiness and stop it themselves.
 */
export function spawnDaemon(spec: DaemonSpec): number {
  const path = toolPath(spec.tool);
  const fd = openSync(spec.logFile, 'a', 0o600);
  try {
    // node's spawn, not execa: execa ties a child's lifetime to ours, a daemon must not be.
    const child = spawn(path, spec.args, {
      env: { ...process.env, ...spec.env },
      cwd: spec.cwd,
      uid: spec.uid,
      gid: spec.gid,
      detached: true,
      ...(spec.argv0 ? { argv0: spec.argv0 } : {}),
      stdio: ['ignore', fd, fd],
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${path} could not be started`);
    child.on('error', () => {});
    child.unref();
    return pid;
  } finally {
    closeSync(fd);
  }
}
