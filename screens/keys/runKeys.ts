import type { Key } from 'ink';
import type { JobStore } from '../hooks/jobStore.js';

export interface RunKeyActions {
  ask(): void;
  answered(): void;
  /** enter or esc once the job has ended: back to the screen's own view. */
  close(): void;
}

/**
 * The keys of a job shown on screen (a backup, a restore, a drill): while it runs, x asks
 * "Cancel …? y/N" and only a yes cancels; once it has ended, enter or esc closes it.
 */
export function runKeys(store: JobStore<unknown>, asking: boolean, input: string, key: Key, on: RunKeyActions): boolean {
  if (store.getSnapshot().state === 'running') {
    if (asking) {
      // Only a yes cancels; anything else keeps the job running.
      if (input === 'y' || input === 'Y') store.job.cancel('cancelled from the console');
      on.answered();
      return true;
    }
    if (input === 'x') {
      on.ask();
      return true;
    }
    return false;
  }
  if (key.return || key.escape) {
    on.close();
    return true;
  }
  return false;
}
