/**
 * Helpers the benches share: where the built CLI is, timing a child process, medians, temp
 * directories and a plain text table. Nothing here measures anything on its own.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgresSandbox, type PostgresSandboxOptions, type SandboxInstance } from '../src/sandbox/index.js';

/** dist/src/cli/main.js, next to this file's dist/bench/. */
export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, timing it from spawn to exit; stdout/stderr are kept (bounded). */
export function exec(cmd: string, args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { ...opts, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let errBytes = 0;
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => {
      // Keep the last ~64 KiB of stderr: tools may be chatty.
      err.push(b);
      errBytes += b.length;
      while (errBytes > 65536 && err.length > 1) errBytes -= err.shift()!.length;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({
        code,
        signal,
        ms: performance.now() - t0,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
  });
}

/** Like exec(), but a non-zero exit throws with the command and the end of its stderr. */
export async function mustRun(cmd: string, args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<Ran> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-5).join(' | ') || r.stdout.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}: ${tail}`);
  }
  return r;
}

/** The built CLI, as an operator or archive_command would start it. */
export function dbdrill(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return mustRun(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function timeIt<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** A fresh temp directory (0700) under the OS temp dir; remove it with rmTemp. */
export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `dbdrill-bench-${tag}-`));
}

export function rmTemp(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 2, retryDelay: 100 });
}

export const ms = (x: number): string => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
export const secs = (x: number): string => `${(x / 1000).toFixed(2)} s`;
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
export const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MB`;

/** Prints a left-aligned text table with a title line. */
export function printTable(title: string, headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`\n${title}\n${line(headers)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

export function note(text: string): void {
  process.stdout.write(`${text}\n`);
}

/**
 * A PostgreSQL sandbox under a bench temp dir (/tmp/dbdrill-bench-pg-XXXXXX/sandbox), so its
 * processes are easy to tell from anyone else's: see leftoverServers().
 */
export async function benchSandbox(opts: PostgresSandboxOptions = {}): Promise<{ sandbox: SandboxInstance; parent: string }> {
  const parent = tempDir('pg');
  // The server runs as postgres and must be able to walk into its directory.
  chmodSync(parent, 0o711);
  try {
    return { sandbox: await startPostgresSandbox({ ...opts, baseDir: join(parent, 'sandbox') }), parent };
  } catch (e) {
    rmTemp(parent);
    throw e;
  }
}

/** Stops the sandbox, removes its parent dir, and says whether any of its processes survived. */
export async function stopBenchSandbox(sb: { sandbox: SandboxInstance; parent: string } | undefined): Promise<void> {
  if (!sb) return;
  try {
    await sb.sandbox.stop();
  } finally {
    rmTemp(sb.parent);
    const left = await exec('pgrep', ['-af', sb.parent]);
    const lines = left.stdout.split('\n').filter((l) => l.trim() !== '' && !l.includes('pgrep'));
    note(lines.length === 0 ? `sandbox stopped; no process of ${sb.parent} left` : `WARNING: still running after stop:\n${lines.join('\n')}`);
  }
}
