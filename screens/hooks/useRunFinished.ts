import { useEffect, useRef } from 'react';

/**
 * Calls `onFinished` each time a run ends. Keyed on the run itself as well as its state: a job
 * that ends before the screen ever drew it running leaves the state 'done' as the previous run's
 * was, and its result would never be read (CI caught the Training score so).
 */
export function useRunFinished(run: unknown, state: string | undefined, onFinished: () => void): void {
  const latest = useRef(onFinished);
  latest.current = onFinished;
  useEffect(() => {
    if (state && state !== 'running') latest.current();
  }, [run, state]);
}
