import { execa, type Options, type ResultPromise } from './execa-lib.js';
import { signalGroup, type Signal } from './process.js';
import { prepareSecret } from './secrets.js';
import { toolName, toolPath, type ToolCall } from './tool-call.js';

/**
 * The one way src/runner starts a tool that dbdrill waits for (runTool, runPipe): the same spawn
 * options, one registry of what is running, and one process-group kill, so that a cancelled
 * single tool and a cancelled pipe leave the same nothing behind.
 */

/** Where the child's streams go and how long it may run: the part that differs per caller. */
export type StreamOptions = Pick<Options, 'stdin' | 'input' | 'stdout' | 'stderr' | 'timeout'>;

export interface StartedTool {
  name: string;
  /** As started, secret option file included (its path, never the password). */
  argv: string[];
  child: ResultPromise;
  /** Forgets the child and removes its secret; call once, after it has ended. */
  release(): void;
}

export const DEFAULT_KILL_GRACE_MS = 5000;

/**
 * Starts a tool in its own process group (it leads it), tracked until released. Secrets go into
 * its environment or a 0600 option file named first in argv, never into argv itself.
 */
export function startTool(call: ToolCall, streams: StreamOptions, killGraceMs = DEFAULT_KILL_GRACE_MS): StartedTool {
  const secret = prepareSecret(call.secret, { uid: call.uid, gid: call.gid });
  const argv = [...secret.argsBefore, ...call.args];
  let child: ResultPromise;
  try {
    child = execa(toolPath(call.tool), argv, {
      env: { ...call.env, ...secret.env },
      extendEnv: true,
      cwd: call.cwd,
      uid: call.uid,
      gid: call.gid,
      reject: false,
      buffer: false,
      stripFinalNewline: false,
      ...streams,
      killSignal: 'SIGTERM',
      forceKillAfterDelay: killGraceMs,
      // execa's own cleanup (signal-exit) re-raises SIGINT when it counts no other listener and
      // miscounts with several children, killing dbdrill before it can mark a backup failed.
      // Children are tracked here instead and stopped by our own interrupt path or at exit.
      cleanup: false,
      // Its own process group, so a cancel reaches the tool's helpers too: pg_basebackup's forked
      // WAL receiver would otherwise keep the pipes open and the run waiting forever.
      detached: true,
    }) as ResultPromise;
  } catch (e) {
    secret.cleanup();
    throw e;
  }
  running.add(child);
  installExitHook();
  let released = false;
  return {
    name: toolName(call.tool),
    argv: [toolPath(call.tool), ...argv],
    child,
    release() {
      if (released) return;
      released = true;
      running.delete(child);
      secret.cleanup();
    },
  };
}

/** Signals a started tool and every process it started (they share its process group). */
export function killGroup(child: ResultPromise, signal: Signal): void {
  if (child.pid !== undefined) signalGroup(child.pid, signal);
}

export interface Cancel {
  /** Whether cancel() was called. */
  readonly requested: boolean;
  /** SIGINT now (tools clean up), SIGTERM after the grace, SIGKILL after twice the grace. */
  cancel(): void;
  /** Stops the pending escalation timers (the children ended). */
  dispose(): void;
}

/** The cancel sequence for a set of started tools, applied to each one's whole process group. */
export function groupCancel(children: () => readonly ResultPromise[], graceMs = DEFAULT_KILL_GRACE_MS): Cancel {
  const timers: NodeJS.Timeout[] = [];
  let requested = false;
  const all = (signal: Signal) => {
    for (const c of children()) killGroup(c, signal);
  };
  return {
    get requested() {
      return requested;
    },
    cancel() {
      if (requested) return;
      requested = true;
      all('SIGINT');
      timers.push(setTimeout(() => all('SIGTERM'), graceMs).unref());
      timers.push(setTimeout(() => all('SIGKILL'), graceMs * 2).unref());
    },
    dispose() {
      for (const t of timers) clearTimeout(t);
    },
  };
}

const running = new Set<ResultPromise>();
let exitHook = false;

/** A tool still running when dbdrill exits (a bug or an uncaught error) gets SIGTERM, not orphaned. */
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const c of running) killGroup(c, 'SIGTERM');
  });
}

/** How many started tools are not released yet (tests: nothing is left tracked after a run). */
export function trackedTools(): number {
  return running.size;
}
