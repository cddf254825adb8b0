import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built entry: tests exercise what users run, not the TypeScript sources. */
export const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** The working directory (relative paths in the arguments are read against it). */
  cwd?: string;
  /** Run as this user (needs root): how permission faults are replayed, root bypassing them. */
  as?: { uid: number; gid: number };
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
        ...(opts.as ? { uid: opts.as.uid, gid: opts.as.gid } : {}),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr, ms: Math.round(performance.now() - t0) });
      },
    );
  });
}

/** A fresh config dir per test file, removed afterwards. */
export function tempConfigDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dbdrill-test-config-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
