/**
 * The events a long-running piece of work reports, and the context an engine adapter runs in.
 * Defined here, below src/ops, so engines can report progress without knowing about Jobs.
 */
export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export type JobEvent =
  | { type: 'step'; at: string; step: string; status: StepStatus; detail?: string; bytes?: number }
  | { type: 'log'; at: string; level: 'info' | 'warn' | 'error'; text: string }
  | { type: 'tool-line'; at: string; tool: string; stream: 'stdout' | 'stderr'; text: string }
  | {
      type: 'progress';
      at: string;
      phase: string;
      done?: number;
      total?: number;
      /** units per second */
      rate?: number;
      etaSeconds?: number;
      unit?: 'bytes' | 'segments' | 'rows' | 'lsn';
      /** Where done counts from when that is not 0: an LSN range starts at the backup's start. */
      start?: number;
    };

export type JobEventInput = JobEvent extends infer E ? (E extends JobEvent ? Omit<E, 'at'> : never) : never;

/** What a step that checks something found: a step whose check failed is shown failed, not done. */
export interface StepOutcome {
  ok: boolean;
  detail?: string;
}

export interface EngineContext {
  emit(event: JobEventInput): void;
  signal: AbortSignal;
  /**
   * Runs fn as a named step, emitting running/done/failed around it. A step that ran but whose
   * check failed (outcome says not ok) ends failed with the outcome's detail, and still returns.
   */
  step<T>(name: string, fn: () => Promise<T>, outcome?: (value: T) => StepOutcome): Promise<T>;
}
