import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineContext as JobContext } from './context.js';

function sizeOf(path: string): number {
  try {
    const st = statSync(path);
    if (!st.isDirectory()) return st.size;
    let total = 0;
    for (const name of readdirSync(path)) total += sizeOf(join(path, name));
    return total;
  } catch {
    return 0;
  }
}

/**
 * Progress for tools that print none (pg_dump, mariadb-dump): the size of what they have written,
 * sampled once a second, with the rate over the last sample.
 */
export function watchGrowth(ctx: JobContext, phase: string, path: string, intervalMs = 1000): () => void {
  let last = 0;
  let lastAt = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const done = sizeOf(path);
    const rate = ((done - last) * 1000) / Math.max(1, now - lastAt);
    last = done;
    lastAt = now;
    ctx.emit({ type: 'progress', phase, done, rate, unit: 'bytes' });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
