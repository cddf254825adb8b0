import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbdrillError } from '../src/errors.js';
import { waitForPidExit } from '../src/runner/process.js';
import { runTool, type RunEvent } from '../src/runner/run.js';
import { LineSplitter, Tail } from '../src/runner/tail.js';
import { findTool } from '../src/runner/tools.js';
import { tempConfigDir } from './helpers/cli.js';

async function rejection(p: Promise<unknown>): Promise<DbdrillError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DbdrillError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('Tail and LineSplitter', () => {
  it('keeps only the newest lines but counts all', () => {
    const t = new Tail(3);
    for (let i = 1; i <= 10; i++) t.push(`l${i}`);
    expect(t.lines()).toEqual(['l8', 'l9', 'l10']);
    expect(t.lines(2)).toEqual(['l9', 'l10']);
    expect(t.total).toBe(10);
  });

  it('splits on \\n and \\r across chunk borders, including multi-byte characters', () => {
    const got: string[] = [];
    const s = new LineSplitter((l) => got.push(l));
    const bytes = Buffer.from('a\nb\r\n 10%\r 20%\rcafé\nend');
    // Feed byte by byte so UTF-8 sequences are cut in half.
    for (const b of bytes) s.write(Uint8Array.of(b));
    s.end();
    expect(got).toEqual(['a', 'b', ' 10%', ' 20%', 'café', 'end']);
  });
});

describe('findTool', () => {
  it('finds pg_dump for the server major in /usr/lib/postgresql/<major>/bin', async () => {
    const t = await findTool('pg_dump', { serverMajor: 15 });
    expect(t.path).toBe('/usr/lib/postgresql/15/bin/pg_dump');
    expect(t.major).toBe(15);
    expect(t.version).toMatch(/^15\.\d+/);
  });

  it('refuses a client older than the server and names the package', async () => {
    const e = await rejection(findTool('pg_dump', { serverMajor: 99, serverVersion: '99.1' }));
    expect(e.code).toBe('tool-too-old');
    expect(e.message).toMatch(/^pg_dump 15\.\d+ is older than the server \(99\.1\) .*apt-get install postgresql-client-99\.$/);
  });

  it('says which package to install for a missing tool', async () => {
    const e = await rejection(findTool('rclone-does-not-exist'));
    expect(e.code).toBe('tool-missing');
    expect(e.message).toContain('rclone-does-not-exist is not installed');
    const m = await rejection(findTool(['no-such-mariadb-dump']));
    expect(m.message).toMatch(/install it with: apt-get install no-such-mariadb-dump/);
  });

  it('prefers the first of several names that exists', async () => {
    const t = await findTool(['mariadb-dump', 'mysqldump']);
    expect(t.name).toBe('mariadb-dump');
    expect(t.version).toMatch(/^10\./);
  });
});

describe('runTool', () => {
  let tmp: ReturnType<typeof tempConfigDir>;
  beforeEach(() => {
    tmp = tempConfigDir();
  });
  afterEach(() => tmp.cleanup());

  it('streams lines as events, keeps tails, and captures stdout', async () => {
    const events: RunEvent[] = [];
    const r = await runTool({
      tool: '/bin/sh',
      args: ['-c', 'for i in 1 2 3; do echo out$i; echo err$i >&2; done'],
      capture: true,
      onEvent: (e) => events.push(e),
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('out1\nout2\nout3\n');
    expect(r.stderrTail).toEqual(['err1', 'err2', 'err3']);
    expect(events[0]).toMatchObject({ type: 'start', tool: 'sh' });
    expect(events.filter((e) => e.type === 'line' && e.stream === 'stdout').map((e) => (e as { text: string }).text)).toEqual(['out1', 'out2', 'out3']);
    expect(events.at(-1)).toMatchObject({ type: 'exit', exitCode: 0 });
  });

  it('turns a failing exit into one sentence with the last stderr lines', async () => {
    const e = await rejection(runTool({ tool: '/bin/sh', args: ['-c', 'echo working; echo "FATAL: disk full" >&2; exit 3'] }));
    expect(e.code).toBe('tool-failed');
    expect(e.message).toBe('sh exited with code 3: FATAL: disk full.');
    expect(e.detail).toMatchObject({ exitCode: 3 });
  });

  it('keeps an indented continuation with its message, so the telling line is not cut off', async () => {
    // What pg_dump prints when its session is terminated: the cause is followed by two tab lines.
    const script = [
      'echo "pg_dump: error: Dumping the contents of table \\"big\\" failed: PQgetCopyData() failed." >&2',
      'echo "pg_dump: detail: Error message from server: server closed the connection unexpectedly" >&2',
      'printf "\\tThis probably means the server terminated abnormally\\n\\tbefore or while processing the request.\\n" >&2',
      'echo "pg_dump: detail: Command was: COPY public.big (id, pad) TO stdout;" >&2',
      'exit 1',
    ].join('; ');
    const e = await rejection(runTool({ tool: '/bin/sh', args: ['-c', script] }));
    expect(e.message).toBe(
      'sh exited with code 1: pg_dump: error: Dumping the contents of table "big" failed: PQgetCopyData() failed. | ' +
        'pg_dump: detail: Error message from server: server closed the connection unexpectedly This probably means the server terminated abnormally before or while processing the request. | ' +
        'pg_dump: detail: Command was: COPY public.big (id, pad) TO stdout;.',
    );
  });

  it('writes stdout straight into a file', async () => {
    const file = join(tmp.dir, 'out.txt');
    await runTool({ tool: '/bin/sh', args: ['-c', 'seq 1 1000'], stdout: { file } });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBe(1000);
    expect(lines.at(-1)).toBe('1000');
  });

  it('on cancel sends SIGINT first, so a tool can clean up', async () => {
    const ac = new AbortController();
    const marker = join(tmp.dir, 'cleaned');
    const p = runTool({
      tool: '/bin/sh',
      args: ['-c', `trap 'echo cleaned > ${marker}; exit 130' INT; echo ready; while true; do sleep 0.05; done`],
      signal: ac.signal,
      onEvent: (ev) => {
        if (ev.type === 'line' && ev.text === 'ready') ac.abort();
      },
    });
    const e = await rejection(p);
    expect(e.code).toBe('aborted');
    expect(readFileSync(marker, 'utf8').trim()).toBe('cleaned');
  });

  it('escalates to SIGKILL when a tool ignores SIGINT and SIGTERM', async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const p = runTool({
      tool: '/bin/sh',
      args: ['-c', `trap '' INT TERM; echo ready; while true; do sleep 0.05; done`],
      signal: ac.signal,
      killGraceMs: 200,
      onEvent: (ev) => {
        if (ev.type === 'line' && ev.text === 'ready') ac.abort();
      },
    });
    const e = await rejection(p);
    expect(e.code).toBe('aborted');
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('on cancel reaches the processes a tool started, which would otherwise hold its pipes open', async () => {
    const ac = new AbortController();
    let helper = 0;
    const p = runTool({
      tool: '/bin/sh',
      // A background child of a non-interactive shell ignores SIGINT, like a forked helper.
      args: ['-c', 'sleep 30 & echo $!; wait'],
      signal: ac.signal,
      killGraceMs: 200,
      onEvent: (ev) => {
        if (ev.type === 'line' && /^\d+$/.test(ev.text)) {
          helper = Number(ev.text);
          ac.abort();
        }
      },
    });
    const e = await rejection(p);
    expect(e.code).toBe('aborted');
    expect(helper).toBeGreaterThan(0);
    // Killed, not merely signalled: gone, or a zombie that PID 1 (in a container) may never reap.
    expect(await waitForPidExit(helper, 2_000)).toBe(true);
  });

  it('keeps memory bounded: a million lines leave a 200-line tail', async () => {
    let count = 0;
    const r = await runTool({ tool: '/bin/sh', args: ['-c', 'seq 1 1000000'], onEvent: (e) => e.type === 'line' && count++ });
    expect(count).toBe(1_000_000);
    expect(r.lines).toBe(1_000_000);
    expect(r.stdoutTail.length).toBe(200);
    expect(r.stdoutTail.at(-1)).toBe('1000000');
  });
});
