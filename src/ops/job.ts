/**
 * A Job is what every use-case returns: a typed stream of events and a final result. The CLI
 * prints the events as lines or JSON; the console renders them. Neither knows how the work is done.
 */
import type { EngineContext, JobEvent, JobEventInput } from '../engines/context.js';
import { explained } from '../errors.js';

export type { JobEvent, JobEventInput, StepStatus } from '../engines/context.js';

export type Listener = (event: JobEvent) => void;

export interface Job<R> {
  /** Subscribe to events; returns the unsubscribe function. Late subscribers miss earlier events. */
  on(listener: Listener): () => void;
  readonly result: Promise<R>;
  /** Ask the job to stop: running tools get SIGINT, then SIGTERM, then SIGKILL. */
  cancel(reason?: string): void;
  readonly signal: AbortSignal;
}

export type JobContext = EngineContext;

/**
 * Starts `work` on the next tick so the caller can subscribe before the first event.
 * An external signal (Ctrl-C in the CLI) cancels the job too.
 */
export function startJob<R>(work: (ctx: JobContext) => Promise<R>, external?: AbortSignal): Job<R> {
  const listeners = new Set<Listener>();
  const controller = new AbortController();
  if (external) {
    if (external.aborted) controller.abort(external.reason);
    else external.addEventListener('abort', () => controller.abort(external.reason), { once: true });
  }
  const emit: JobContext['emit'] = (e) => {
    const event = { ...e, at: new Date().toISOString() } as JobEvent;
    for (const l of listeners) l(event);
  };
  const ctx: JobContext = {
    emit,
    signal: controller.signal,
    async step(name, fn, outcome) {
      emit({ type: 'step', step: name, status: 'running' });
      try {
        const value = await fn();
        const o = outcome?.(value);
        emit({ type: 'step', step: name, status: o && !o.ok ? 'failed' : 'done', ...(o?.detail ? { detail: o.detail } : {}) });
        return value;
      } catch (raw) {
        // A file system refusal becomes its sentence here, so every screen and report shows it.
        const e = explained(raw);
        emit({ type: 'step', step: name, status: 'failed', detail: (e as Error).message });
        throw e;
      }
    },
  };
  const result = new Promise<R>((resolve, reject) => {
    setImmediate(() => work(ctx).then(resolve, (e: unknown) => reject(explained(e))));
  });
  return {
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    result,
    cancel(reason = 'cancelled') {
      controller.abort(reason);
    },
    signal: controller.signal,
  };
}

/** The same job with its result transformed (events and cancel pass through). */
export function mapJob<R, S>(job: Job<R>, f: (r: R) => S): Job<S> {
  return { on: job.on, result: job.result.then(f), cancel: job.cancel, signal: job.signal };
}

/**
 * A Job whose real work is loaded on demand: returned at once (so a screen can subscribe and
 * render "running"), it imports the module that starts the real job, then passes its events,
 * result and cancel through. The console uses it to keep execa, pg and mysql2 out of its first
 * frame's imports.
 */
export function deferJob<R>(load: () => Promise<Job<R>>): Job<R> {
  return startJob(async (ctx) => {
    const inner = await load();
    // Subscribed before the inner job's first event: startJob begins work on a later tick.
    const off = inner.on(({ at: _at, ...event }) => ctx.emit(event as JobEventInput));
    const cancel = () => inner.cancel(typeof ctx.signal.reason === 'string' ? ctx.signal.reason : 'cancelled');
    if (ctx.signal.aborted) cancel();
    else ctx.signal.addEventListener('abort', cancel, { once: true });
    try {
      return await inner.result;
    } finally {
      off();
      ctx.signal.removeEventListener('abort', cancel);
    }
  });
}
