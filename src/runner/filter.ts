import type { Readable } from 'node:stream';
import { aborted, toolFailed } from './errors.js';
import { groupCancel, killGroup, startTool } from './spawn.js';
import type { ToolCall } from './tool-call.js';
import { Tail } from './tail.js';

export interface Filter {
  /** The tool's stdout: what it made of the input. */
  output: Readable;
  /** Settles once the tool exited: rejects with its failure (stderr tail), or aborted. */
  done: Promise<void>;
}

/**
 * A tool between two node streams (`input` → tool → `output`), e.g. `age -d` turning a verified
 * ciphertext stream into the plain stream a restore hands to tar: nothing lands on disk. The
 * caller consumes `output` and then awaits `done`; a cancelled signal stops the tool's group.
 */
export function filterStream(call: ToolCall, input: Readable, signal?: AbortSignal): Filter {
  if (signal?.aborted) throw aborted(typeof call.tool === 'string' ? call.tool : call.tool.name);
  const tool = startTool(call, { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
  const stderr = new Tail(20);
  let partial = '';
  tool.child.stderr?.on('data', (c: Buffer) => {
    const lines = (partial + c.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) stderr.push(l);
  });
  // A tool that stops reading early (EPIPE) is judged by its exit status, not by the pipe.
  tool.child.stdin?.on('error', () => {});
  input.once('error', () => killGroup(tool.child, 'SIGTERM'));
  input.pipe(tool.child.stdin!);
  const cancel = groupCancel(() => [tool.child]);
  const onAbort = () => cancel.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  const done = (async () => {
    try {
      const r = await tool.child;
      if (partial) stderr.push(partial);
      if (cancel.requested) throw aborted(tool.name);
      if (r.signal || r.exitCode !== 0) throw toolFailed(tool.name, r.exitCode, r.signal ?? undefined, stderr.lines(5).length ? stderr.lines(5) : [String(r.originalMessage ?? r.shortMessage ?? 'could not start')]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      cancel.dispose();
      tool.release();
    }
  })();
  // Reported through `done`; a caller that gave up early must not crash on it.
  done.catch(() => undefined);
  return { output: tool.child.stdout!, done };
}
