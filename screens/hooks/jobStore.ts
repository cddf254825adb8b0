import { consoleWords } from '../text/consoleWords.js';
import type { Job, JobEvent, StepStatus } from '../../src/ops/job.js';

export interface StepRow {
  name: string;
  status: StepStatus;
  detail?: string;
  /** Epoch ms of the step's start and end, from the events' own times (a drill shows them). */
  startedAt?: number;
  endedAt?: number;
}

export type ProgressRow = Omit<Extract<JobEvent, { type: 'progress' }>, 'type' | 'at'>;

export interface LogLine {
  /** Monotonic, so a line keeps its React key while older ones drop off the tail. */
  seq: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

export interface JobSnapshot<R> {
  state: 'running' | 'done' | 'failed';
  steps: readonly StepRow[];
  progress?: ProgressRow;
  /** The newest lines only (bounded); `logTotal` counts every line seen. */
  log: readonly LogLine[];
  logTotal: number;
  result?: R;
  /** One sentence for the operator when the job failed. */
  error?: string;
}

export interface JobStoreOptions {
  /** Lines kept for the log pane; a tool may print millions. */
  tailSize?: number;
  /** Events arriving within this window cause one re-render, not one each. */
  batchMs?: number;
}

/**
 * Holds what a Job has reported so far, for useSyncExternalStore. It subscribes in the
 * constructor: a Job drops events nobody listens to, so create the store in the same tick as the
 * job, not in an effect. Listeners hear at most one notification per batch window, and the
 * final state (done/failed) is published at once.
 */
export class JobStore<R> {
  readonly job: Job<R>;
  readonly #tailSize: number;
  readonly #batchMs: number;
  readonly #listeners = new Set<() => void>();
  #steps: StepRow[] = [];
  #progress: ProgressRow | undefined;
  #log: LogLine[] = [];
  #seq = 0;
  #snapshot: JobSnapshot<R>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe: () => void;

  constructor(job: Job<R>, options: JobStoreOptions = {}) {
    this.job = job;
    this.#tailSize = Math.max(1, options.tailSize ?? 200);
    this.#batchMs = options.batchMs ?? 50;
    this.#snapshot = { state: 'running', steps: [], log: [], logTotal: 0 };
    this.#unsubscribe = job.on((e) => this.#onEvent(e));
    job.result.then(
      (result) => this.#finish({ state: 'done', result }),
      (e: unknown) => this.#finish({ state: 'failed', error: oneSentence(e) }),
    );
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): JobSnapshot<R> => this.#snapshot;

  /** Stops listening; cancels the job when it is still running (the console is closing). */
  dispose(): void {
    this.#unsubscribe();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#snapshot.state === 'running') this.job.cancel('console closed');
  }

  #onEvent(e: JobEvent): void {
    switch (e.type) {
      case 'step': {
        const row: StepRow = { name: e.step, status: e.status };
        if (e.detail !== undefined) row.detail = e.detail;
        const i = this.#steps.findIndex((s) => s.name === e.step);
        const at = Date.parse(e.at);
        const started = i >= 0 ? this.#steps[i]!.startedAt : undefined;
        if (e.status === 'running') row.startedAt = at;
        else if (started !== undefined) row.startedAt = started;
        if (e.status === 'done' || e.status === 'failed' || (e.status === 'skipped' && started !== undefined)) row.endedAt = at;
        if (i >= 0) this.#steps[i] = row;
        else this.#steps.push(row);
        break;
      }
      case 'progress': {
        const { type: _t, at: _a, ...rest } = e;
        this.#progress = rest;
        break;
      }
      case 'log':
        this.#pushLine(e.level, e.text);
        break;
      case 'tool-line':
        // Many tools name themselves already ("pg_basebackup: checkpoint completed").
        this.#pushLine(e.stream === 'stderr' ? 'warn' : 'info', e.text.startsWith(`${e.tool}: `) ? e.text : `${e.tool}: ${e.text}`);
        break;
    }
    this.#schedule();
  }

  #pushLine(level: LogLine['level'], text: string): void {
    this.#log.push({ seq: this.#seq++, level, text });
    // Trim in chunks so the array never exceeds twice the tail and rarely shifts.
    if (this.#log.length >= this.#tailSize * 2) this.#log = this.#log.slice(-this.#tailSize);
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#publish({});
    }, this.#batchMs);
  }

  #finish(end: Partial<JobSnapshot<R>>): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#progress = undefined;
    this.#publish(end);
  }

  #publish(extra: Partial<JobSnapshot<R>>): void {
    const snap: JobSnapshot<R> = {
      state: this.#snapshot.state,
      steps: this.#steps.slice(),
      log: this.#log.slice(-this.#tailSize),
      logTotal: this.#seq,
      ...extra,
    };
    if (this.#progress) snap.progress = this.#progress;
    if (this.#snapshot.result !== undefined && snap.result === undefined) snap.result = this.#snapshot.result;
    if (this.#snapshot.error !== undefined && snap.error === undefined) snap.error = this.#snapshot.error;
    this.#snapshot = snap;
    for (const l of this.#listeners) l();
  }
}

/**
 * The operator sees the error's first sentence-line (stack traces belong in logs, not screens),
 * in the console's words: the field or key that fixes it, not a CLI flag.
 */
export function oneSentence(e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  const line = raw.split('\n').find((l) => l.trim() !== '') ?? 'The job failed without saying why.';
  return consoleWords(line.trim());
}
