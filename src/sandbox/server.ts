import { DbdrillError, isDbdrillError } from '../errors.js';
import { isPidAlive, signalProcess, waitForPidExit, type Signal } from '../runner/process.js';
import { explainLog, fileSize, logLinesSince, removeDir } from './dirs.js';
import { canBind, freePort, portBusy, validatePort } from './ports.js';
import { register, unregister } from './registry.js';

/** The start-up steps both engines share: pick a port, launch, wait, and clean up on failure. */

const READY_TIMEOUT_MS = 60_000;
const MAX_PORT_ATTEMPTS = 5;
const ADDRESS_IN_USE = /Address already in use|could not create any TCP\/IP sockets/i;

export interface StartState {
  /** "PostgreSQL" or "MariaDB", for sentences. */
  label: string;
  dir?: string;
  pid?: number;
  keep: boolean;
  /** How to take the server down at once (see registry.ts). */
  emergencySignal: Signal;
}

export function cancelled(label: string): DbdrillError {
  return new DbdrillError('aborted', `The ${label} sandbox start was cancelled; the partly started instance was removed.`);
}

/** Records the new instance dir, so that an exit or signal from here on removes it. */
export function adoptDir(state: StartState, dir: string): void {
  state.dir = dir;
  register({ dir, keep: state.keep, emergencySignal: state.emergencySignal });
}

export function checkAbort(state: StartState, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled(state.label);
}

/** A fixed port is checked before initdb spends seconds on a server that could never bind. */
export async function checkRequestedPort(label: string, port: number | undefined): Promise<void> {
  if (port === undefined) return;
  validatePort(port);
  if (!(await canBind(port))) throw portBusy(label, port);
}

export interface LaunchSpec {
  state: StartState;
  dir: string;
  logFile: string;
  requestedPort: number | undefined;
  signal: AbortSignal | undefined;
  /** Starts the server on this port and returns its pid. */
  launch(port: number): number;
  /** True once the server accepts connections. */
  ready(pid: number, port: number): Promise<boolean>;
}

/**
 * Launches the server until it is up. A free port can be taken between the check and the bind
 * (parallel test workers race for them), so an "address in use" death is retried on a new port
 * unless the caller asked for that port.
 */
export async function launchUntilReady(spec: LaunchSpec): Promise<{ pid: number; port: number }> {
  const { state } = spec;
  for (let attempt = 1; ; attempt++) {
    checkAbort(state, spec.signal);
    const port = spec.requestedPort ?? (await freePort());
    const logFrom = fileSize(spec.logFile);
    const pid = spec.launch(port);
    state.pid = pid;
    register({ pid, dir: spec.dir, keep: state.keep, emergencySignal: state.emergencySignal });

    const outcome = await waitForReady(spec, pid, port, logFrom);
    if (outcome === 'ready') return { pid, port };
    await waitForPidExit(pid, 5_000);
    if (spec.requestedPort !== undefined) throw portBusy(state.label, port);
    if (attempt >= MAX_PORT_ATTEMPTS) {
      throw new DbdrillError(
        'sandbox',
        `The ${state.label} sandbox found no free port after ${MAX_PORT_ATTEMPTS} tries because other processes kept taking them; try again or give a fixed port.`,
      );
    }
  }
}

async function waitForReady(spec: LaunchSpec, pid: number, port: number, logFrom: number): Promise<'ready' | 'port-in-use'> {
  const { state } = spec;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
    checkAbort(state, spec.signal);
    if (await spec.ready(pid, port).catch(() => false)) return 'ready';
    if (!isPidAlive(pid)) {
      const lines = logLinesSince(spec.logFile, logFrom);
      if (lines.some((l) => ADDRESS_IN_USE.test(l))) return 'port-in-use';
      throw new DbdrillError(
        'sandbox',
        `The ${state.label} sandbox server exited while starting, and its log says: ${explainLog(lines) || '(nothing)'}; fix what it names and start again (keep the directory to read the whole log).`,
        { logTail: lines, port },
      );
    }
    if (Date.now() >= deadline) {
      const lines = logLinesSince(spec.logFile, logFrom);
      throw new DbdrillError(
        'sandbox',
        `The ${state.label} sandbox server did not accept connections within ${READY_TIMEOUT_MS / 1000} s (last log lines: ${explainLog(lines) || 'none'}); the machine may be overloaded, so try again when it is quieter.`,
        { logTail: lines, port },
      );
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Undoes a failed or cancelled start: kill whatever was launched, remove the directory (unless
 * keep), and turn an unexpected library error into a sentence.
 */
export async function failStart(state: StartState, error: unknown, signal: AbortSignal | undefined): Promise<never> {
  if (state.pid !== undefined) await killServer(state.pid, state.emergencySignal);
  if (state.dir !== undefined) {
    unregister(state.dir);
    if (!state.keep) removeDir(state.dir);
  }
  if (signal?.aborted) throw cancelled(state.label);
  if (isDbdrillError(error)) throw error;
  const why = error instanceof Error ? error.message : String(error);
  throw new DbdrillError('sandbox', `The ${state.label} sandbox could not be set up: ${why.replace(/\.$/, '')}.`, { cause: why });
}

/** The emergency signal, then SIGKILL for the server and everything it started. */
export async function killServer(pid: number, emergencySignal: Signal): Promise<boolean> {
  if (!isPidAlive(pid)) return true;
  signalProcess(pid, emergencySignal, { tree: emergencySignal === 'SIGKILL' });
  if (await waitForPidExit(pid, 5_000)) return true;
  signalProcess(pid, 'SIGKILL', { tree: true });
  return waitForPidExit(pid, 5_000);
}
