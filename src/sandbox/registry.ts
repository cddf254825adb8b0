import { isPidAlive, signalProcess, type Signal } from '../runner/process.js';
import { removeDir } from './dirs.js';

/**
 * Servers this process started and has not stopped yet. If the process exits first, or dies of
 * SIGINT/SIGTERM/SIGHUP that nobody else handles, they are killed here, so a crashed test run or
 * a Ctrl-C leaves no postgres/mariadbd behind. Exit handlers must be synchronous, so nothing is
 * waited for: each server gets its engine's fastest safe stop signal, and its directory goes.
 */
interface Entry {
  /** Undefined until the server is launched: a start interrupted in initdb still loses its dir. */
  pid?: number;
  dir: string;
  keep: boolean;
  /**
   * PostgreSQL: SIGQUIT, the immediate shutdown, which takes the backends down and releases the
   * SysV shared memory a SIGKILLed postmaster would leak. MariaDB: SIGKILL.
   */
  emergencySignal: Signal;
}

const live = new Map<string, Entry>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

/** Registering the same dir again replaces its pid (a restart on another port). */
export function register(entry: Entry): void {
  live.set(entry.dir, entry);
  install();
}

export function unregister(dir: string): void {
  live.delete(dir);
  if (live.size === 0) uninstall();
}


export function killAllSync(): void {
  for (const e of live.values()) {
    try {
      if (e.pid !== undefined && isPidAlive(e.pid)) signalProcess(e.pid, e.emergencySignal, { tree: e.emergencySignal === 'SIGKILL' });
    } catch {
      // Best effort while exiting: nothing sensible is left to do with an error here.
    }
    if (!e.keep) {
      try {
        removeDir(e.dir);
      } catch {
        // As above.
      }
    }
  }
  live.clear();
}

function onExit(): void {
  killAllSync();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles this signal (the CLI's "first Ctrl-C cancels the job" handler): the
  // process may well live on to stop its sandboxes cleanly, and the exit hook still covers it
  // if it does not.
  if (process.listenerCount(signal) > 1) return;
  killAllSync();
  uninstall();
  // Our listener replaced the default "terminate" action; re-raise the signal so the process
  // still dies of it (with the usual 128+n status) instead of carrying on.
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  for (const s of SIGNALS) process.off(s, onSignal);
}
