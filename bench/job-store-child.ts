/**
 * Run by bench/console.ts in a fresh process (so earlier benches do not inflate its memory):
 * a real Job (startJob) emits N tool-line events into a JobStore with its default tail and batch
 * window, and one subscriber reads every snapshot as React would. Prints one JSON line.
 *
 *   node --expose-gc dist/bench/job-store-child.js 1000000
 */
import { startJob } from '../src/ops/job.js';
import { JobStore } from '../screens/hooks/jobStore.js';

const LINES = Number(process.argv[2] ?? 1_000_000);
const CHUNK = 10_000;
const mib = (b: number) => b / 1048576;

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const job = startJob(async (ctx) => {
    for (let i = 0; i < LINES; i += CHUNK) {
      for (let j = i; j < Math.min(LINES, i + CHUNK); j++) {
        ctx.emit({ type: 'tool-line', tool: 'pg_dump', stream: 'stderr', text: `pg_dump: dumping contents of table "public.orders_${j % 997}" (line ${j})` });
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      // Let the store's batch timer fire now and then, as a real tool's pipe would.
      await new Promise((r) => setTimeout(r, i % (CHUNK * 10) === 0 ? 60 : 0));
    }
    return LINES;
  });
  const store = new JobStore(job);
  let notifications = 0;
  let shown = 0;
  store.subscribe(() => {
    notifications++;
    shown = store.getSnapshot().log.length;
  });
  const t0 = performance.now();
  await job.result;
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 10));
  const snap = store.getSnapshot();
  peak = Math.max(peak, process.memoryUsage().rss);
  store.dispose();
  process.stdout.write(`${JSON.stringify({
    lines: LINES,
    ms,
    baselineMb: mib(baseline),
    peakMb: mib(peak),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    notifications,
    tail: snap.log.length,
    shown,
    logTotal: snap.logTotal,
    state: snap.state,
  })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
