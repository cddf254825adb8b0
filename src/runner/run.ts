import { execa, type ResultPromise } from 'execa';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { aborted, toolFailed } from './errors.js';
import { prepareSecret, type Secret } from './secrets.js';
import { LineSplitter, Tail } from './tail.js';
import type { Tool } from './tools.js';

export type RunEvent =
  | { type: 'start'; tool: string; pid: number | undefined; argv: string[] }
  | { type: 'line'; tool: string; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'exit'; tool: string; exitCode: number | undefined; signal: string | undefined; durationMs: number };

export interface RunSpec {
  tool: Tool | string;
  args: string[];
  /** Added to the inherited environment. */
  env?: Record<string, string | undefined>;
  secret?: Secret;
  cwd?: string;
  signal?: AbortSignal;
  /** Run as another user (initdb and postgres refuse root). */
  uid?: number;
  gid?: number;
  /**
   * A stream is piped in; if it fails (a backup file that does not match its checksum), the tool
   * is stopped before it can take the short input for a whole one, and that error is thrown.
   */
  stdin?: 'ignore' | { file: string } | { text: string } | { stream: Readable };
  /** Where stdout goes: parsed as lines (default), straight into a file, or nowhere. */
  stdout?: 'lines' | { file: string; append?: boolean } | 'ignore';
  /** Keep all of stdout (for small outputs such as --version or pg_controldata). */
  capture?: boolean;
  onEvent?: (event: RunEvent) => void;
  tailLines?: number;
  timeoutMs?: number;
  okExitCodes?: number[];
  /** Grace between SIGINT, SIGTERM and SIGKILL when cancelled. */
  killGraceMs?: number;
}

export interface RunResult {
  tool: string;
  exitCode: number;
  durationMs: number;
  stdout: string;
  stdoutTail: string[];
  stderrTail: string[];
  lines: number;
}

const MAX_CAPTURE = 16 * 1024 * 1024;

/**
 * Runs one tool to completion. Output is streamed as line events and only a bounded tail is kept;
 * a cancelled signal sends SIGINT (tools clean up), then SIGTERM, then SIGKILL. A non-zero exit
 * becomes a tool-failed error carrying the last stderr lines, never a raw execa error.
 */
export async function runTool(spec: RunSpec): Promise<RunResult> {
  const path = typeof spec.tool === 'string' ? spec.tool : spec.tool.path;
  const name = typeof spec.tool === 'string' ? basename(spec.tool) : spec.tool.name;
  const secret = prepareSecret(spec.secret, { uid: spec.uid, gid: spec.gid });
  const argv = [...secret.argsBefore, ...spec.args];
  const stdoutTail = new Tail(spec.tailLines ?? 200);
  const stderrTail = new Tail(spec.tailLines ?? 200);
  let captured = '';
  const emit = spec.onEvent ?? (() => {});
  const started = performance.now();

  if (spec.signal?.aborted) {
    secret.cleanup();
    throw aborted(name);
  }

  let child: ResultPromise;
  try {
    child = execa(path, argv, {
      env: { ...spec.env, ...secret.env },
      extendEnv: true,
      cwd: spec.cwd,
      uid: spec.uid,
      gid: spec.gid,
      reject: false,
      buffer: false,
      stripFinalNewline: false,
      timeout: spec.timeoutMs,
      ...stdinOptions(spec.stdin),
      stdout: stdoutOption(spec.stdout),
      stderr: 'pipe',
      killSignal: 'SIGTERM',
      forceKillAfterDelay: spec.killGraceMs ?? 5000,
      // execa's own cleanup (signal-exit) re-raises SIGINT when it counts no other listener and
      // miscounts with several children, killing dbdrill before it can mark a backup failed.
      // Children are tracked here instead and stopped by our own interrupt path or at exit.
      cleanup: false,
      // Its own process group, so a cancel reaches the tool's helpers too: pg_basebackup's forked
      // WAL receiver would otherwise keep the pipes open and the run waiting forever.
      detached: true,
    });
  } catch (e) {
    secret.cleanup();
    throw e;
  }
  emit({ type: 'start', tool: name, pid: child.pid, argv: [path, ...argv] });
  const untrack = track(child);

  const out = new LineSplitter((text) => {
    stdoutTail.push(text);
    emit({ type: 'line', tool: name, stream: 'stdout', text });
  });
  const err = new LineSplitter((text) => {
    stderrTail.push(text);
    emit({ type: 'line', tool: name, stream: 'stderr', text });
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    if (spec.capture && captured.length < MAX_CAPTURE) captured += chunk.toString('utf8');
    out.write(chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => err.write(chunk));
  let feedError: Error | undefined;
  const feed = spec.stdin && typeof spec.stdin === 'object' && 'stream' in spec.stdin ? spec.stdin.stream : undefined;
  if (feed && child.stdin) {
    // A tool that stops reading early (EPIPE) is judged by its exit status, not by the pipe.
    child.stdin.on('error', () => {});
    feed.once('error', (e) => {
      feedError = e;
      killGroup(child, 'SIGTERM');
    });
    feed.pipe(child.stdin);
  }

  let cancelled = false;
  const timers: NodeJS.Timeout[] = [];
  const onAbort = () => {
    cancelled = true;
    const grace = spec.killGraceMs ?? 5000;
    killGroup(child, 'SIGINT');
    timers.push(setTimeout(() => killGroup(child, 'SIGTERM'), grace).unref());
    timers.push(setTimeout(() => killGroup(child, 'SIGKILL'), grace * 2).unref());
  };
  spec.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const result = await child;
    out.end();
    err.end();
    const durationMs = Math.round(performance.now() - started);
    const signal = result.signal ?? undefined;
    emit({ type: 'exit', tool: name, exitCode: result.exitCode, signal, durationMs });
    if (cancelled) throw aborted(name);
    if (feedError) throw feedError;
    if (result.failed && result.exitCode === undefined && !signal) {
      // Could not start at all (ENOENT, EACCES) or timed out.
      const why = result.timedOut ? `did not finish within ${spec.timeoutMs} ms` : (result.originalMessage ?? result.shortMessage ?? "could not start");
      throw toolFailed(name, undefined, undefined, [...stderrTail.lines(), why]);
    }
    const ok = spec.okExitCodes ?? [0];
    if (signal || result.exitCode === undefined || !ok.includes(result.exitCode)) {
      // A dozen lines, so that continuation lines (see toolFailed) still leave three messages.
      throw toolFailed(name, result.exitCode, signal, stderrTail.lines(12).length ? stderrTail.lines(12) : stdoutTail.lines(12));
    }
    return {
      tool: name,
      exitCode: result.exitCode,
      durationMs,
      stdout: captured,
      stdoutTail: stdoutTail.lines(),
      stderrTail: stderrTail.lines(),
      lines: stdoutTail.total + stderrTail.total,
    };
  } finally {
    // A cancelled tool may leave helpers that ignored SIGINT (background children): none may outlive it.
    if (cancelled) killGroup(child, 'SIGKILL');
    feed?.destroy();
    untrack();
    spec.signal?.removeEventListener('abort', onAbort);
    for (const t of timers) clearTimeout(t);
    secret.cleanup();
  }
}

const running = new Set<ResultPromise>();
let exitHook = false;

/** A tool still running when dbdrill exits (a bug or an uncaught error) gets SIGTERM, not orphaned. */
function track(child: ResultPromise): () => void {
  running.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of running) killGroup(c, 'SIGTERM');
    });
  }
  return () => running.delete(child);
}

/** Signals the tool and every process it started (they share its process group). */
function killGroup(child: ResultPromise, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already (ESRCH): nothing is left to signal.
  }
}

function stdinOptions(s: RunSpec['stdin']): { stdin: 'ignore' | 'pipe' | { file: string } } | { input: string } {
  if (!s || s === 'ignore') return { stdin: 'ignore' };
  if ('stream' in s) return { stdin: 'pipe' };
  if ('file' in s) return { stdin: { file: s.file } };
  return { input: s.text };
}

function stdoutOption(s: RunSpec['stdout']) {
  if (!s || s === 'lines') return 'pipe' as const;
  if (s === 'ignore') return 'ignore' as const;
  return { file: s.file, append: s.append ?? false };
}
