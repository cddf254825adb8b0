import { describe, expect, test, vi } from 'vitest';
import { JobStore } from '../../screens/hooks/jobStore.js';
import { DbdrillError } from '../../src/errors.js';
import { startJob } from '../../src/ops/job.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('JobStore', () => {
  test('batches a burst of events into one notification and keeps a bounded log tail', async () => {
    // The batch is the store's own timer: faked, the test sees it land at batchMs exactly, where
    // a real sleep could only wait past it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const job = startJob(async (ctx) => {
        for (let i = 0; i < 10_000; i++) ctx.emit({ type: 'tool-line', tool: 'pg_restore', stream: 'stderr', text: `line ${i}` });
        await gate;
        return 42;
      });
      const store = new JobStore(job, { tailSize: 200, batchMs: 50 });
      let notifications = 0;
      store.subscribe(() => notifications++);
      // startJob runs the work on the next turn of the event loop (setImmediate, not faked): the burst.
      await new Promise((resolve) => setImmediate(resolve));
      vi.advanceTimersByTime(49);
      expect(notifications).toBe(0);
      vi.advanceTimersByTime(1);
      const snap = store.getSnapshot();
      expect(notifications).toBe(1);
      expect(snap.state).toBe('running');
      expect(snap.logTotal).toBe(10_000);
      expect(snap.log).toHaveLength(200);
      expect(snap.log.at(-1)).toMatchObject({ level: 'warn', text: 'pg_restore: line 9999' });
      expect(snap.log[0]!.text).toBe('pg_restore: line 9800');
      release();
      await job.result;
      await new Promise((resolve) => setImmediate(resolve));
      expect(store.getSnapshot()).toMatchObject({ state: 'done', result: 42 });
      expect(notifications).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  test('a snapshot is a stable object between notifications (useSyncExternalStore needs that)', async () => {
    const job = startJob(async (ctx) => {
      ctx.emit({ type: 'log', level: 'info', text: 'hello' });
      return 'ok';
    });
    const store = new JobStore(job);
    expect(store.getSnapshot()).toBe(store.getSnapshot());
    await job.result;
    await sleep(0);
    expect(store.getSnapshot()).toBe(store.getSnapshot());
  });

  test('steps update in place; progress shows while running and is gone at the end', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const job = startJob(async (ctx) => {
      await ctx.step('connect', async () => {});
      ctx.emit({ type: 'step', step: 'copy', status: 'running' });
      ctx.emit({ type: 'progress', phase: 'copying', done: 5, total: 10, unit: 'bytes' });
      await gate;
      ctx.emit({ type: 'step', step: 'copy', status: 'done' });
      return true;
    });
    const store = new JobStore(job, { batchMs: 5 });
    // Wait for the batch to land, not a fixed time: a loaded machine delays timers.
    for (let i = 0; i < 200 && store.getSnapshot().steps.length < 2; i++) await sleep(10);
    expect(store.getSnapshot().steps).toMatchObject([
      { name: 'connect', status: 'done' },
      { name: 'copy', status: 'running' },
    ]);
    // Steps carry the times of their own events, so a screen can show how long each took.
    const [connect, copy] = store.getSnapshot().steps;
    expect(connect!.endedAt! - connect!.startedAt!).toBeGreaterThanOrEqual(0);
    expect(copy!.startedAt).toBeGreaterThanOrEqual(connect!.endedAt!);
    expect(copy!.endedAt).toBeUndefined();
    expect(store.getSnapshot().progress).toMatchObject({ phase: 'copying', done: 5, total: 10 });
    release();
    await job.result;
    await sleep(0);
    expect(store.getSnapshot().steps.map((s) => s.status)).toEqual(['done', 'done']);
    expect(store.getSnapshot().steps[1]!.endedAt).toBeGreaterThanOrEqual(store.getSnapshot().steps[1]!.startedAt!);
    expect(store.getSnapshot().progress).toBeUndefined();
  });

  test('a failure becomes one sentence', async () => {
    const job = startJob(async () => {
      throw new DbdrillError('tool-missing', 'pg_basebackup was not found; install postgresql-client-15.\n    at stack frame');
    });
    const store = new JobStore(job);
    await job.result.catch(() => {});
    await sleep(0);
    expect(store.getSnapshot()).toMatchObject({
      state: 'failed',
      error: 'pg_basebackup was not found; install postgresql-client-15.',
    });
  });

  test('dispose cancels a job that is still running', async () => {
    const job = startJob(
      (ctx) =>
        new Promise<void>((_, reject) => {
          if (ctx.signal.aborted) reject(new Error('cancelled'));
          ctx.signal.addEventListener('abort', () => reject(new Error('cancelled')));
        }),
    );
    const store = new JobStore(job);
    store.dispose();
    await expect(job.result).rejects.toThrow('cancelled');
    expect(job.signal.aborted).toBe(true);
  });
});
