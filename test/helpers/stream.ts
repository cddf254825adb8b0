import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from './cli.js';

/** A running `dbdrill stream`, its stderr kept. */
export class Stream {
  readonly log: string[] = [];
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stderr!.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      this.log.push(...lines);
    });
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  static start(name: string, env: Record<string, string>, extra: string[] = []): Stream {
    return new Stream(spawn(process.execPath, [CLI, 'stream', name, ...extra], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  text(): string {
    return this.log.join('\n');
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** The pids of pg_receivewal processes writing into `repo`'s stream/ (read from /proc). */
export function receivers(repo: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('pg_receivewal') && argv.includes(join(repo, 'stream'))) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * The one pg_receivewal writing into `repo`'s stream/, once there is exactly one. The stream
 * restarts a receiver that ends, so right after a start there can be a moment with none (one CI
 * run caught that, with the slot still active); the stream's own log goes with a timeout.
 */
export async function oneReceiver(repo: string, stream: Stream): Promise<number> {
  try {
    const pids = await until('one pg_receivewal', () => {
      const now = receivers(repo);
      return now.length === 1 ? now : undefined;
    });
    return pids[0]!;
  } catch (e) {
    throw new Error(`${(e as Error).message}; the stream said:\n${stream.text()}`);
  }
}

/** How many marker and tick rows a restored server (on `port`) holds in the stream tests' ticks table. */
export async function markerAndTicks(db: { sql<T extends object>(text: string, port?: number): Promise<T[]> }, port: number): Promise<{ marker: number; ticks: number }> {
  const rows = await db.sql<{ marker: number; ticks: number }>(`SELECT count(*) FILTER (WHERE note = 'marker')::int AS marker, count(*) FILTER (WHERE note LIKE 'tick %')::int AS ticks FROM ticks`, port);
  return rows[0]!;
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
