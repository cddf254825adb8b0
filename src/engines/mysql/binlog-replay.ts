import { basename } from 'node:path';
import type { Target } from '../../config/target.js';
import { ReplayTracker, stopDatetimeArg, type ReplayProgress } from '../../binlog/decoded.js';
import { DbdrillError } from '../../errors.js';
import { runPipe } from '../../runner/pipe.js';
import { findTool, type Tool } from '../../runner/tools.js';
import type { EngineContext } from '../context.js';
import { forwardToolEvents } from '../tool-events.js';
import { connectMysql } from './client.js';
import { myConnArgs, mySecret } from './connection-args.js';

export interface ReplaySpec {
  /** Archived binlog files, in order (full paths). */
  files: { path: string; size: number }[];
  /** Where in the first file the replay starts (the backup's binlog position). */
  startPosition: number;
  /** Stop at the first event of this second or later (whole seconds, UTC). */
  stopAt?: Date;
  /** Stop before the event that starts at this offset of the last file (a transaction boundary). */
  stopPosition?: number;
  /**
   * Only changes to this schema are replayed (the one a dump was loaded into, same name). Left
   * out for a physical backup, which restores every schema: then every change is replayed.
   */
  schema?: string;
}

export interface ReplayOutcome extends ReplayProgress {
  /** Bytes of SQL that went into the client. */
  bytes: number;
  seconds: number;
  argv: string[];
}

/** The mariadb-binlog arguments of a replay; a pure function, so the flags are unit-tested. */
export function replayArgs(spec: ReplaySpec): string[] {
  return [
    // The restored copy must not write the replayed changes into a binlog of its own.
    '--disable-log-bin',
    // A damaged event stops the tool instead of reaching the server as data.
    '--verify-binlog-checksum',
    ...(spec.schema !== undefined ? [`--database=${spec.schema}`] : []),
    `--start-position=${spec.startPosition}`,
    ...(spec.stopAt ? [`--stop-datetime=${stopDatetimeArg(spec.stopAt)}`] : []),
    // mariadb-binlog applies --stop-position to the last file named (and --start-position to the first).
    ...(spec.stopPosition !== undefined ? [`--stop-position=${spec.stopPosition}`] : []),
    ...spec.files.map((f) => f.path),
  ];
}

/**
 * Replays archived binlogs into `into`: mariadb-binlog decodes them (under TZ=UTC, so that
 * --stop-datetime and the printed event times are UTC) and its output streams straight into the
 * mariadb client with --binary-mode, which applies row images and statements byte for byte.
 * --database keeps the replay to the restored schema: the binlog also holds every other schema's
 * changes, which the fresh instance has no tables for. (For statements, as opposed to row events,
 * --database goes by the session's default schema, the documented limit of binlog filtering.)
 */
export async function replayBinlogs(ctx: EngineContext, into: Target, binlogTool: Tool, spec: ReplaySpec): Promise<ReplayOutcome> {
  const t0 = performance.now();
  // A large transaction's rows travel as one BINLOG statement; the server's 16 MB default refuses
  // it. The setting is global and takes effect for the client's new session.
  const admin = await connectMysql(into, { dbname: null });
  try {
    await admin.query('SET GLOBAL max_allowed_packet = 1073741824');
  } finally {
    await admin.end().catch(() => {});
  }
  const client = await findTool(['mariadb', 'mysql']);
  const tracker = new ReplayTracker();
  const total = spec.files.reduce((n, f, i) => n + (i === spec.files.length - 1 && spec.stopPosition !== undefined ? Math.min(f.size, spec.stopPosition) : f.size), 0) - spec.startPosition;
  const before = (i: number) => spec.files.slice(0, i).reduce((n, f) => n + f.size, 0);
  let lastEmit = 0;
  const args = replayArgs(spec);
  ctx.emit({
    type: 'log',
    level: 'info',
    text: `replaying ${spec.files.length} binlog file(s) (${spec.files.map((f) => basename(f.path)).join(', ')}) from position ${spec.startPosition}${spec.stopAt ? `, stopping before ${stopDatetimeArg(spec.stopAt)} UTC` : ''}${spec.stopPosition !== undefined ? `, stopping at position ${spec.stopPosition} of ${basename(spec.files.at(-1)!.path)}` : ''}${spec.schema === undefined ? ', every schema' : ''}`,
  });
  let r: Awaited<ReturnType<typeof runPipe>>;
  try {
    r = await runPipe({
      from: { tool: binlogTool, args, env: { TZ: 'UTC' } },
      to: { tool: client, args: [...myConnArgs(into), '--binary-mode', '--max-allowed-packet=1G'], secret: mySecret(into) },
      signal: ctx.signal,
      onEvent: forwardToolEvents(ctx),
      tap: (chunk) => {
        tracker.push(chunk);
        const now = performance.now();
        if (now - lastEmit > 500) {
          lastEmit = now;
          const p = tracker.progress;
          const done = Math.max(0, before(Math.max(0, p.file)) + p.position - spec.startPosition);
          ctx.emit({ type: 'progress', phase: 'replaying binlogs', done: Math.min(done, total), total, unit: 'bytes' });
        }
      },
    });
  } catch (e) {
    tracker.end();
    throw locateReplayFailure(e, tracker, spec.files.map((f) => basename(f.path)), binlogTool.name);
  }
  tracker.end();
  ctx.emit({ type: 'progress', phase: 'replaying binlogs', done: total, total, unit: 'bytes' });
  return { ...tracker.progress, bytes: r.bytes, seconds: (performance.now() - t0) / 1000, argv: [binlogTool.path, ...args] };
}

/** Where in the binlogs a replay that failed stopped, as exactly as the tools say. */
export interface ReplayFailure {
  file: string;
  position: number;
  /** The event the tool named (the client's line or the binlog tool's offset), not just how far the stream got. */
  exact: boolean;
}

/**
 * The tool's error with the place it stopped in its detail (replayFailedAt): the client names the
 * line of the statement it refused, which the tracker maps back to its event; the binlog tool names
 * the offset it could not read; otherwise the stream got at most as far as the tracker saw.
 */
export function locateReplayFailure(e: unknown, tracker: ReplayTracker, files: string[], binlogToolName: string): unknown {
  if (!(e instanceof DbdrillError) || e.code === 'aborted') return e;
  const p = tracker.progress;
  const tail = ((e.detail?.stderrTail as string[] | undefined) ?? []).join('\n');
  let at: ReplayFailure | undefined;
  const line = /ERROR \d+ \(\w+\) at line (\d+)/.exec(tail);
  const offset = /at offset (\d+)/.exec(tail);
  if (e.detail?.tool !== binlogToolName && line) {
    const ev = tracker.eventAtLine(Number(line[1]));
    if (ev && files[ev.file] !== undefined) at = { file: files[ev.file]!, position: ev.position, exact: true };
  } else if (e.detail?.tool === binlogToolName && offset && files[p.file] !== undefined) {
    at = { file: files[p.file]!, position: Number(offset[1]), exact: true };
  }
  if (!at && files[Math.max(0, p.file)] !== undefined) at = { file: files[Math.max(0, p.file)]!, position: p.position, exact: false };
  return at ? new DbdrillError(e.code, e.message, { ...e.detail, replayFailedAt: at }) : e;
}
