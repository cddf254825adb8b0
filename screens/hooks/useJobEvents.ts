import { useSyncExternalStore } from 'react';
import type { JobSnapshot, JobStore } from './jobStore.js';

export { JobStore, type JobSnapshot, type LogLine, type StepRow, type ProgressRow } from './jobStore.js';

const noSubscribe = () => () => {};
const nothing = () => undefined;

/**
 * Renders a JobStore's batched state; re-renders at most once per batch window. Accepts no store
 * (nothing started yet) so a screen can call it unconditionally.
 */
export function useJobEvents<R>(store: JobStore<R>): JobSnapshot<R>;
export function useJobEvents<R>(store: JobStore<R> | undefined): JobSnapshot<R> | undefined;
export function useJobEvents<R>(store: JobStore<R> | undefined): JobSnapshot<R> | undefined {
  const subscribe = store ? store.subscribe : noSubscribe;
  const get = store ? store.getSnapshot : nothing;
  return useSyncExternalStore(subscribe, get, get);
}
