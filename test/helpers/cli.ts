import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
export function tempConfigDir(): { dir: string; cleanup: () => void; settle: (timeoutMs?: number) => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'dbdrill-test-config-'));
  return {
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    // A console in a killed tmux is still exiting for a moment, and it writes its config on the
    // way: removed before it is gone, the directory came back empty-handed in /tmp.
    settle: async (timeoutMs = 10_000) => {
      for (const t0 = Date.now(); processesNaming(dir).length > 0 && Date.now() - t0 < timeoutMs; ) await new Promise((r) => setTimeout(r, 100));
    },
  };
}

/** Pids of other processes whose command line or environment names `text` (read from /proc). */
export function processesNaming(text: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text) || readFileSync(`/proc/${e}/environ`, 'utf8').includes(text)) out.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}
