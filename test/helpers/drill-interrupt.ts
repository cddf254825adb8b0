import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { DrillReport } from '../../src/drill/report.js';
import { listProcesses } from '../../src/runner/process.js';
import { CLI } from './cli.js';

export interface InterruptedDrill {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The report as it stood when SIGINT was sent. */
  atInterrupt: DrillReport;
  /** The step that was running then. */
  interruptedStep: string;
}

function readReports(dir: string): Map<string, DrillReport> {
  const out = new Map<string, DrillReport>();
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return out;
  }
  for (const f of files) {
    try {
      out.set(f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as DrillReport);
    } catch {
      // Written atomically, so this is only a file that vanished between readdir and read.
    }
  }
  return out;
}

/**
 * Runs `dbdrill drill NAME --json` as a terminal would: in its own process group, which gets
 * SIGINT on Ctrl-C. The drill's report in <repo>/drills is followed while it runs; once one of
 * `whileRunning` is the running step, the whole group gets SIGINT.
 */
export async function interruptDrill(opts: {
  name: string;
  repo: string;
  env: Record<string, string>;
  whileRunning: (step: string) => boolean;
  timeoutMs?: number;
}): Promise<InterruptedDrill> {
  const dir = join(opts.repo, 'drills');
  const before = new Set(readReports(dir).keys());
  const child = spawn(process.execPath, [CLI, 'drill', opts.name, '--json'], {
    detached: true,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (exit = e));

  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let atInterrupt: DrillReport | undefined;
  let interruptedStep = '';
  try {
    while (!atInterrupt) {
      if (exit) throw new Error(`the drill ended (${exit.code ?? exit.signal}) before any of the awaited steps was seen running:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`no awaited step was seen running within the time limit:\n${stderr}`);
      for (const [f, r] of readReports(dir)) {
        if (before.has(f)) continue;
        const running = r.steps.find((s) => s.status === 'running' && opts.whileRunning(s.name));
        if (running) {
          atInterrupt = r;
          interruptedStep = running.name;
        }
      }
      if (!atInterrupt) await new Promise((r) => setTimeout(r, 10));
    }
    process.kill(-child.pid!, 'SIGINT');
    const done = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(r, 90_000, undefined))]);
    if (!done) throw new Error(`the drill did not exit within 90 s of SIGINT:\n${stderr}`);
    return { ...done, stdout, stderr, atInterrupt, interruptedStep };
  } finally {
    // Never leave the drill running after a failed expectation.
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Processes that belong to a scratch instance: its directory in the command line or as cwd. */
export function scratchProcesses(scratch: { dir: string; port: number }): string[] {
  return listProcesses()
    .filter((p) => p.commandLine.includes(scratch.dir) || (p.cwd ?? '').startsWith(scratch.dir) || p.commandLine.includes(`--port=${scratch.port} `))
    .map((p) => `${p.pid} ${p.name} ${p.commandLine}`);
}

/**
 * What Ctrl-C must leave: exit 1, an aborted report (on stdout and in the repository) whose
 * tear-down ran and whose later steps never did, no scratch server and no scratch directory.
 */
export function expectAbortedAndTornDown(r: InterruptedDrill, repo: string): DrillReport {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain('SIGINT received, stopping');
  const printed = JSON.parse(r.stdout) as DrillReport;
  const stored = JSON.parse(readFileSync(join(repo, 'drills', `${r.atInterrupt.id}.json`), 'utf8')) as DrillReport;
  expect(stored).toEqual(printed);
  expect(stored.status).toBe('aborted');
  expect(stored.error).toMatch(/^aborted: /);
  expect(stored.finishedAt).toBeDefined();
  const status = (name: string) => stored.steps.find((s) => s.name === name)?.status;
  expect(status('tear down')).toBe('done');
  expect(['failed', 'done']).toContain(status(r.interruptedStep));
  expect(status('verify')).toBe('skipped');
  expect(status('measure')).toBe('skipped');
  expect(stored.rto).toBeUndefined();
  const scratch = r.atInterrupt.scratch!;
  expect(scratch, 'the running report names its scratch instance').toBeDefined();
  expect(stored.scratch).toEqual(scratch);
  expect(scratchProcesses(scratch)).toEqual([]);
  expect(existsSync(scratch.dir)).toBe(false);
  return stored;
}
