import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { listProcesses, signalProcess, waitForPidExit } from '../src/runner/process.js';
import {
  SANDBOX_PARENT_ENV, sandboxInfo, startMariadbSandbox, startPostgresSandbox, type SandboxInstance,
} from '../src/sandbox/index.js';
import type {} from './helpers/sandbox.js';

/**
 * One PostgreSQL and one MariaDB for the whole suite, started in parallel. Every sandbox of this
 * run (these two and any a test starts) lives under one run directory, so teardown can tell this
 * run's leftovers from another run's servers on the same machine and fail the run on a leak.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runDir = mkdtempSync(join(tmpdir(), 'dbdrill-test-run-'));
  // The postgres and mysql users must pass through to their own 0700 directories inside.
  chmodSync(runDir, 0o711);
  // Test workers are forked after this and inherit it.
  process.env[SANDBOX_PARENT_ENV] = runDir;

  const timed = async <T>(start: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const v = await start();
    return [v, performance.now() - t0];
  };
  const t0 = performance.now();
  const [pgResult, myResult] = await Promise.allSettled([
    timed(() => startPostgresSandbox({ archive: true, sampleData: true })),
    timed(() => startMariadbSandbox({ binlog: true, sampleData: true })),
  ]);
  const started: SandboxInstance[] = [];
  for (const r of [pgResult, myResult]) if (r.status === 'fulfilled') started.push(r.value[0]);

  const teardown = async () => {
    const stops = await Promise.allSettled(started.map((s) => s.stop()));
    const problems = stops.flatMap((r) => (r.status === 'rejected' ? [`stop failed: ${String(r.reason)}`] : []));
    problems.push(...(await reapLeaks(runDir)));
    const leftDirs = safeReaddir(runDir);
    if (leftDirs.length > 0) console.warn(`sandbox directories left behind by tests (removed now): ${leftDirs.join(', ')}`);
    rmSync(runDir, { recursive: true, force: true });
    if (problems.length > 0) {
      // Vitest only logs an error thrown by a teardown ("error during close") and still exits 0.
      process.exitCode = 1;
      throw new Error(`Sandbox teardown found problems: ${problems.join('; ')}`);
    }
  };

  if (pgResult.status === 'rejected' || myResult.status === 'rejected') {
    await teardown().catch(() => undefined);
    throw pgResult.status === 'rejected' ? pgResult.reason : (myResult as PromiseRejectedResult).reason;
  }
  const [pgInstance, pgMs] = pgResult.value;
  const [myInstance, myMs] = myResult.value;
  console.log(
    `sandboxes up in ${Math.round(performance.now() - t0)} ms: PostgreSQL ${pgInstance.version} ${Math.round(pgMs)} ms, MariaDB ${myInstance.version} ${Math.round(myMs)} ms`,
  );
  project.provide('pg', sandboxInfo(pgInstance));
  project.provide('mysql', sandboxInfo(myInstance));
  project.provide('sandboxRunDir', runDir);
  return teardown;
}

/**
 * Server processes of this run still alive after every sandbox was stopped. Each is killed (so
 * the machine stays clean) and reported (so the run fails). PostgreSQL backends rename
 * themselves, but their working directory still points into the run directory.
 */
async function reapLeaks(runDir: string): Promise<string[]> {
  const leaks = listProcesses().filter(
    (p) => p.pid !== process.pid && (p.commandLine.includes(runDir) || (p.cwd?.startsWith(runDir) ?? false)),
  );
  for (const p of leaks) signalProcess(p.pid, 'SIGKILL');
  await Promise.all(leaks.map((p) => waitForPidExit(p.pid, 5_000)));
  return leaks.map((p) => `leaked process ${p.pid} (${p.name}): ${p.commandLine}`);
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
