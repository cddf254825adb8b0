import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { DbdrillError } from '../src/errors.js';
import { runPipe } from '../src/runner/pipe.js';
import { groupMembers, signalProcess, waitForPidExit } from '../src/runner/process.js';
import type { RunEvent } from '../src/runner/run.js';
import { trackedTools } from '../src/runner/spawn.js';
import { findTool } from '../src/runner/tools.js';
import { sharedMariadb, withMysql } from './helpers/sandbox.js';

async function rejection(p: Promise<unknown>): Promise<DbdrillError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DbdrillError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** Polls until the process group has no live member; the members still there when time runs out. */
async function groupGone(pgid: number, timeoutMs = 3_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = groupMembers(pgid);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('runPipe cancel', () => {
  const helpers: number[] = [];
  // On a runner that leaks them (the pipe then hangs on their open stderr), the test fails by its
  // timeout, but the machine stays clean.
  afterEach(() => {
    for (const pid of helpers.splice(0)) signalProcess(pid, 'SIGKILL');
  });

  it('leaves neither side nor any process they started behind', { timeout: 15_000 }, async () => {
    const ac = new AbortController();
    const leaders: number[] = [];
    let ticks = 0;
    // Each side starts a background helper, which (in a non-interactive shell) ignores SIGINT the
    // way a forked WAL receiver or a decompressor child would keep running after its parent.
    // Cancelled once both helpers run and data flows, whichever of the two is seen last.
    const cancelWhenRunning = () => {
      if (helpers.length === 2 && ticks > 0 && !ac.signal.aborted) ac.abort();
    };
    const helperLine = (ev: RunEvent) => {
      if (ev.type === 'start' && ev.pid !== undefined) leaders.push(ev.pid);
      if (ev.type === 'line' && ev.stream === 'stderr' && /^helper \d+$/.test(ev.text)) helpers.push(Number(ev.text.slice(7)));
      cancelWhenRunning();
    };
    const e = await rejection(
      runPipe({
        from: { tool: '/bin/sh', args: ['-c', 'sleep 300 & echo helper $! >&2; while :; do echo tick; sleep 0.05; done'] },
        to: { tool: '/bin/sh', args: ['-c', 'sleep 300 & echo helper $! >&2; cat >/dev/null'] },
        signal: ac.signal,
        killGraceMs: 200,
        tap: () => {
          ticks++;
          cancelWhenRunning();
        },
        onEvent: helperLine,
      }),
    );
    expect(e.code).toBe('aborted');
    expect(leaders).toHaveLength(2);
    expect(helpers).toHaveLength(2);
    for (const pgid of leaders) expect(await groupGone(pgid)).toEqual([]);
    for (const pid of helpers) expect(await waitForPidExit(pid, 2_000)).toBe(true);
    expect(trackedTools()).toBe(0);
  });

  it('stops a real mariadb-binlog | mariadb replay and both process groups are gone', async () => {
    const info = sharedMariadb();
    const [binlog, client] = await Promise.all([findTool(['mariadb-binlog', 'mysqlbinlog']), findTool(['mariadb', 'mysql'])]);
    const current = await withMysql(info, async (c) => {
      const [rows] = await c.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
      return { file: String(rows[0]!.File), position: Number(rows[0]!.Position) };
    });
    const conn = [`--host=${info.host}`, `--port=${info.port}`, `--user=${info.user}`, '--protocol=TCP'];
    const secret = { kind: 'mysql' as const, password: info.password };
    const ac = new AbortController();
    const leaders: number[] = [];
    let bytes = 0;
    let armed = false;
    const e = await rejection(
      runPipe({
        // Follows the server from its current end and never stops by itself (as a replay that is
        // still reading would); only a schema nobody writes is passed on, so nothing is applied.
        from: {
          tool: binlog,
          args: [
            ...conn, '--read-from-remote-server', '--stop-never', `--stop-never-slave-server-id=${40_000 + (process.pid % 20_000)}`,
            `--start-position=${current.position}`, '--database=dbdrill_pipe_cancel_none', current.file,
          ],
          secret,
        },
        to: { tool: client, args: [...conn, '--binary-mode'], secret },
        signal: ac.signal,
        killGraceMs: 500,
        tap: (chunk) => {
          bytes += chunk.length;
          if (!armed) {
            armed = true;
            setTimeout(() => ac.abort(), 300);
          }
        },
        onEvent: (ev) => {
          if (ev.type === 'start' && ev.pid !== undefined) leaders.push(ev.pid);
        },
      }),
    );
    expect(e.code).toBe('aborted');
    // The binlog header went through the pipe: both tools were connected and running.
    expect(bytes).toBeGreaterThan(0);
    expect(leaders).toHaveLength(2);
    for (const pgid of leaders) expect(await groupGone(pgid)).toEqual([]);
    expect(trackedTools()).toBe(0);
  });
});
