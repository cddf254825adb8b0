import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { aborted, toolFailed } from './errors.js';
import type { RunEvent } from './run.js';
import { groupCancel, killGroup, startTool, type StartedTool } from './spawn.js';
import { toolName, type ToolCall } from './tool-call.js';
import { LineSplitter, Tail } from './tail.js';

/** One side of a pipe: what runTool would take for a single tool. */
export type PipeEnd = ToolCall;

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
  tool: StartedTool;
  stderr: Tail;
  stdout: Tail;
}

/**
 * Runs `from | to` with node streams between them (backpressure included), so a large stream such
 * as a binlog replay never lands in a temp file. Each side is started like runTool's tool (its own
 * process group, secrets in its own option file). A cancelled signal stops both groups (SIGINT,
 * SIGTERM, SIGKILL). When the receiving tool fails, its error is the one reported (the sender then
 * only sees a broken pipe); otherwise a failing sender is.
 */
export async function runPipe(spec: PipeSpec): Promise<PipeResult> {
  const emit = spec.onEvent ?? (() => {});
  const started = performance.now();
  const sides: Side[] = [];
  const start = (end: PipeEnd, stdin: 'ignore' | 'pipe'): Side => {
    const tool = startTool(end, { stdin, stdout: 'pipe', stderr: 'pipe' }, spec.killGraceMs);
    emit({ type: 'start', tool: tool.name, pid: tool.child.pid, argv: tool.argv });
    const side: Side = { tool, stderr: new Tail(spec.tailLines ?? 200), stdout: new Tail(spec.tailLines ?? 200) };
    const err = new LineSplitter((text) => {
      side.stderr.push(text);
      emit({ type: 'line', tool: tool.name, stream: 'stderr', text });
    });
    tool.child.stderr?.on('data', (c: Buffer) => err.write(c));
    tool.child.stderr?.on('end', () => err.end());
    sides.push(side);
    return side;
  };

  if (spec.signal?.aborted) throw aborted(toolName(spec.from.tool));
  const cancel = groupCancel(() => sides.map((s) => s.tool.child), spec.killGraceMs);
  const onAbort = () => cancel.cancel();
  try {
    const b = start(spec.to, 'pipe');
    const a = start(spec.from, 'ignore');
    const out = new LineSplitter((text) => {
      b.stdout.push(text);
      emit({ type: 'line', tool: b.tool.name, stream: 'stdout', text });
    });
    b.tool.child.stdout?.on('data', (c: Buffer) => out.write(c));
    b.tool.child.stdout?.on('end', () => out.end());
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
    const piping = pipeline(a.tool.child.stdout!, tap, b.tool.child.stdin!).then(() => undefined, (e: unknown) => e as Error);
    const [ra, rb, pipeError] = await Promise.all([a.tool.child, b.tool.child, piping]);
    const durationMs = Math.round(performance.now() - started);
    for (const [side, r] of [[a, ra], [b, rb]] as const) {
      emit({ type: 'exit', tool: side.tool.name, exitCode: r.exitCode, signal: r.signal ?? undefined, durationMs });
    }
    if (cancel.requested) throw aborted(a.tool.name);
    const failed = (r: typeof ra) => r.signal !== undefined || r.exitCode !== 0;
    if (failed(rb)) throw toolFailed(b.tool.name, rb.exitCode, rb.signal ?? undefined, b.stderr.lines(5).length ? b.stderr.lines(5) : [...b.stdout.lines(5), ...(rb.exitCode === undefined ? [String(rb.originalMessage ?? rb.shortMessage ?? 'could not start')] : [])]);
    if (failed(ra)) throw toolFailed(a.tool.name, ra.exitCode, ra.signal ?? undefined, a.stderr.lines(5).length ? a.stderr.lines(5) : [String(ra.originalMessage ?? ra.shortMessage ?? 'could not start')]);
    if (pipeError) throw pipeError;
    return { bytes, durationMs, fromStderrTail: a.stderr.lines(), toStdoutTail: b.stdout.lines(), toStderrTail: b.stderr.lines() };
  } catch (e) {
    // Whatever failed (or was cancelled), neither tool nor anything it started outlives the call.
    for (const s of sides) killGroup(s.tool.child, 'SIGKILL');
    await Promise.allSettled(sides.map((s) => s.tool.child));
    throw e;
  } finally {
    spec.signal?.removeEventListener('abort', onAbort);
    cancel.dispose();
    for (const s of sides) s.tool.release();
  }
}
