import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { toolPath, type ToolCall } from './tool-call.js';

/** A server takes no password: it has no secret to pass. */
export interface DaemonSpec extends Omit<ToolCall, 'secret'> {
  /** Everything the daemon prints goes here. */
  logFile: string;
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
