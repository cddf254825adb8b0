import { execa, type ResultPromise } from 'execa';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { aborted, toolFailed } from './errors.js';
import type { RunEvent } from './run.js';
import { prepareSecret, type PreparedSecret, type Secret } from './secrets.js';
import { LineSplitter, Tail } from './tail.js';
import type { Tool } from './tools.js';

/** One side of a pipe: what runTool would take for a single tool. */
export interface PipeEnd {
  tool: Tool | string;
  args: string[];
  /** Added to the inherited environment. */
  env?: Record<string, string | undefined>;
  secret?: Secret;
  cwd?: string;
}

export interface PipeSpec {
  /** Writes to its stdout ... */
  from: PipeEnd;
  /** ... which becomes this tool's stdin. */
  to: PipeEnd;
  signal?: AbortSignal;
  /** Sees every chunk on its way from one tool to the other (to follow progress); must not keep them. */
  tap?: (chunk: Buffer) => void;
  onEvent?: (event: RunEvent) => void;
  tailLines?: number;
  /** Grace between SIGINT, SIGTERM and SIGKILL when cancelled. */
  killGraceMs?: number;
}

export interface PipeResult {
  /** Bytes that went from one tool to the other. */
  bytes: number;
  durationMs: number;
  fromStderrTail: string[];
  toStdoutTail: string[];
  toStderrTail: string[];
}

interface Side {
  name: string;
  child: ResultPromise;
  secret: PreparedSecret;
  stderr: Tail;
  stdout: Tail;
}

/**
 * Runs `from | to` with node streams between them (backpressure included), so a large stream such
 * as a binlog replay never lands in a temp file. Secrets go into each side's own option file, as
 * with runTool. A cancelled signal stops both (SIGINT, SIGTERM, SIGKILL). When the receiving tool
 * fails, its error is the one reported (the sender then only sees a broken pipe); otherwise a
 * failing sender is.
 */
export async function runPipe(spec: PipeSpec): Promise<PipeResult> {
  const emit = spec.onEvent ?? (() => {});
  const grace = spec.killGraceMs ?? 5000;
  const started = performance.now();
  const sides: Side[] = [];
  const start = (end: PipeEnd, stdin: 'ignore' | 'pipe'): Side => {
    const path = typeof end.tool === 'string' ? end.tool : end.tool.path;
    const name = typeof end.tool === 'string' ? basename(end.tool) : end.tool.name;
    const secret = prepareSecret(end.secret);
    const argv = [...secret.argsBefore, ...end.args];
    let child: ResultPromise;
    try {
      child = execa(path, argv, {
        env: { ...end.env, ...secret.env },
        extendEnv: true,
        cwd: end.cwd,
        reject: false,
        buffer: false,
        stdin,
        stdout: 'pipe',
        stderr: 'pipe',
        killSignal: 'SIGTERM',
        forceKillAfterDelay: grace,
        cleanup: false,
      });
    } catch (e) {
      secret.cleanup();
      throw e;
    }
    emit({ type: 'start', tool: name, pid: child.pid, argv: [path, ...argv] });
    const side: Side = { name, child, secret, stderr: new Tail(spec.tailLines ?? 200), stdout: new Tail(spec.tailLines ?? 200) };
    const err = new LineSplitter((text) => {
      side.stderr.push(text);
      emit({ type: 'line', tool: name, stream: 'stderr', text });
    });
    child.stderr?.on('data', (c: Buffer) => err.write(c));
    child.stderr?.on('end', () => err.end());
    running.add(child);
    sides.push(side);
    return side;
  };

  if (spec.signal?.aborted) throw aborted(basename(typeof spec.from.tool === 'string' ? spec.from.tool : spec.from.tool.name));
  installExitHook();
  let a: Side | undefined;
  let b: Side | undefined;
  let cancelled = false;
  const timers: NodeJS.Timeout[] = [];
  const onAbort = () => {
    cancelled = true;
    for (const s of sides) s.child.kill('SIGINT');
    timers.push(setTimeout(() => sides.forEach((s) => s.child.kill('SIGTERM')), grace).unref());
    timers.push(setTimeout(() => sides.forEach((s) => s.child.kill('SIGKILL')), grace * 2).unref());
  };
  try {
    b = start(spec.to, 'pipe');
    a = start(spec.from, 'ignore');
    const receiver = b;
    const out = new LineSplitter((text) => {
      receiver.stdout.push(text);
      emit({ type: 'line', tool: receiver.name, stream: 'stdout', text });
    });
    b.child.stdout?.on('data', (c: Buffer) => out.write(c));
    b.child.stdout?.on('end', () => out.end());
    spec.signal?.addEventListener('abort', onAbort, { once: true });

    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        try {
          spec.tap?.(chunk);
        } catch (e) {
          done(e as Error);
          return;
        }
        done(null, chunk);
      },
    });
    // A receiver that exits early breaks the pipe (EPIPE): that is its error to report, not this one.
    const piping = pipeline(a.child.stdout!, tap, b.child.stdin!).then(() => undefined, (e: unknown) => e as Error);
    const [ra, rb, pipeError] = await Promise.all([a.child, b.child, piping]);
    const durationMs = Math.round(performance.now() - started);
    for (const [side, r] of [[a, ra], [b, rb]] as const) {
      emit({ type: 'exit', tool: side.name, exitCode: r.exitCode, signal: r.signal ?? undefined, durationMs });
    }
    if (cancelled) throw aborted(a.name);
    const failed = (r: typeof ra) => r.signal !== undefined || r.exitCode !== 0;
    if (failed(rb)) throw toolFailed(b.name, rb.exitCode, rb.signal ?? undefined, b.stderr.lines(5).length ? b.stderr.lines(5) : [...b.stdout.lines(5), ...(rb.exitCode === undefined ? [String(rb.originalMessage ?? rb.shortMessage ?? 'could not start')] : [])]);
    if (failed(ra)) throw toolFailed(a.name, ra.exitCode, ra.signal ?? undefined, a.stderr.lines(5).length ? a.stderr.lines(5) : [String(ra.originalMessage ?? ra.shortMessage ?? 'could not start')]);
    if (pipeError) throw pipeError;
    return { bytes, durationMs, fromStderrTail: a.stderr.lines(), toStdoutTail: b.stdout.lines(), toStderrTail: b.stderr.lines() };
  } catch (e) {
    // Whatever failed, neither tool outlives the call.
    for (const s of sides) s.child.kill('SIGKILL');
    await Promise.allSettled(sides.map((s) => s.child));
    throw e;
  } finally {
    spec.signal?.removeEventListener('abort', onAbort);
    for (const t of timers) clearTimeout(t);
    for (const s of sides) {
      running.delete(s.child);
      s.secret.cleanup();
    }
  }
}

const running = new Set<ResultPromise>();
let hooked = false;

/** A tool still running when dbdrill exits gets SIGTERM, not orphaned (as in run.ts). */
function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of running) c.kill('SIGTERM');
  });
}
