/**
 * What the console's health panel costs: samples a PostgreSQL sandbox with WAL archiving once a
 * second for ~30 s, as the panel does, and prints the CPU time this process used for it as a
 * percentage of one core (target: < 2 %). The server's own work is not counted: it runs in
 * other processes.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/health-sampling.js [seconds] [interval-ms]
 *
 * With DBDRILL_BENCH_TARGET=NAME (and DBDRILL_CONFIG_DIR) it samples a configured target instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { healthSamplerFor, openHealthSampler, watchSampler, type HealthSampler } from '../src/ops/health.js';
import { resolveConfigDir } from '../src/config/paths.js';
import { sandboxTarget } from '../src/ops/sandbox-target.js';
import { startPostgresSandbox, type SandboxInstance } from '../src/sandbox/index.js';

/** Also the entry bench/run.ts expects (`run()`), should it list this bench. */
export async function run(seconds = 30, intervalMs = 1000): Promise<void> {
  const named = process.env.DBDRILL_BENCH_TARGET;
  let sandbox: SandboxInstance | undefined;
  const repo = mkdtempSync(join(tmpdir(), 'dbdrill-bench-repo-'));
  let sampler: HealthSampler;
  if (named) {
    sampler = openHealthSampler(resolveConfigDir(), named);
  } else {
    process.stderr.write('starting a PostgreSQL sandbox with WAL archiving…\n');
    sandbox = await startPostgresSandbox({ archive: true });
    sampler = healthSamplerFor(sandboxTarget(sandbox, 'bench', repo));
  }
  try {
    // The first sample connects (SCRAM, catalog read); the panel pays that once, so it is
    // measured separately from the steady state.
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await sampler.sample();
    const firstCpuMs = cpuMs(process.cpuUsage(c0));
    const firstWallMs = performance.now() - w0;

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), seconds * 1000);
    const latencies: number[] = [];
    const start = process.cpuUsage();
    const t0 = performance.now();
    let last = performance.now();
    let status = '';
    for await (const r of watchSampler(sampler, intervalMs, controller.signal)) {
      const now = performance.now();
      latencies.push(now - last);
      last = now;
      status = r.status;
    }
    clearTimeout(timer);
    const wallMs = performance.now() - t0;
    const used = cpuMs(process.cpuUsage(start));
    const pct = (100 * used) / wallMs;
    latencies.shift();
    const lat = latencies.toSorted((a, b) => a - b);
    const sampleWall = await timedSample(named, sandbox, repo);
    process.stdout.write(
      [
        `health sampling: ${latencies.length + 1} samples in ${(wallMs / 1000).toFixed(1)} s (interval ${intervalMs} ms), last status ${status}`,
        `first sample (connect + catalog): ${firstCpuMs.toFixed(1)} ms CPU, ${firstWallMs.toFixed(1)} ms wall`,
        `steady state: ${used.toFixed(1)} ms CPU = ${pct.toFixed(2)} % of one core (target < 2 %), ${(used / (latencies.length + 1)).toFixed(2)} ms CPU per sample`,
        `sample spacing p50 ${(lat[Math.floor(lat.length / 2)] ?? 0).toFixed(0)} ms, max ${(lat.at(-1) ?? 0).toFixed(0)} ms; one sample's wall time ≈ ${sampleWall.toFixed(1)} ms`,
        '',
      ].join('\n'),
    );
  } finally {
    await sampler.close();
    await sandbox?.stop();
    rmSync(repo, { recursive: true, force: true });
  }
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

/** Wall time of a warm sample (connection open), averaged over 10. */
async function timedSample(named: string | undefined, sandbox: SandboxInstance | undefined, repo: string): Promise<number> {
  const s = named ? openHealthSampler(resolveConfigDir(), named) : healthSamplerFor(sandboxTarget(sandbox!, 'bench', repo));
  try {
    await s.sample();
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) await s.sample();
    return (performance.now() - t0) / 10;
  } finally {
    await s.close();
  }
}

// Run directly (node dist/bench/health-sampling.js [seconds] [interval-ms]), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(Number(process.argv[2] ?? 30), Number(process.argv[3] ?? 1000)).catch((e: unknown) => {
    process.stderr.write(`health-sampling bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
