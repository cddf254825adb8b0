import type { Target } from '../../src/config/target.js';
import type { TargetRow } from '../api.js';
import type { JobStore } from '../hooks/jobStore.js';
import { clampIndex } from '../widgets/DataTable/fit.js';
import { matchesFilter } from '../widgets/FilterLine/FilterLine.js';

export interface TargetsState {
  /** undefined until the first list arrives. */
  rows: TargetRow[] | undefined;
  loadError: string | undefined;
  /** Index into the filtered rows. */
  selected: number;
  filter: string;
  filterEditing: boolean;
  /** The sandbox start, running or finished; kept so its outcome stays readable. */
  run: JobStore<Target> | undefined;
  runDismissed: boolean;
}

export type TargetsAction =
  | { type: 'loaded'; rows: TargetRow[] }
  | { type: 'load-failed'; error: string }
  | { type: 'move'; by: number }
  | { type: 'move-to'; index: number }
  | { type: 'filter-open' }
  | { type: 'filter-type'; text: string }
  | { type: 'filter-erase' }
  | { type: 'filter-keep' }
  | { type: 'filter-clear' }
  | { type: 'run-started'; run: JobStore<Target> }
  | { type: 'run-dismissed' };

export const initialTargets: TargetsState = {
  rows: undefined,
  loadError: undefined,
  selected: 0,
  filter: '',
  filterEditing: false,
  run: undefined,
  runDismissed: false,
};

export function visibleRows(state: TargetsState): TargetRow[] {
  return (state.rows ?? []).filter((r) => matchesFilter([r.name, r.engine, r.host, `${r.host}:${r.port}`, r.dbname], state.filter));
}

export function targetsReducer(state: TargetsState, action: TargetsAction): TargetsState {
  switch (action.type) {
    case 'loaded': {
      // Keep the cursor on the same target across reloads, if it is still there.
      const current = visibleRows(state)[state.selected]?.name;
      const next = { ...state, rows: action.rows, loadError: undefined };
      const i = current === undefined ? -1 : visibleRows(next).findIndex((r) => r.name === current);
      return { ...next, selected: clampIndex(i >= 0 ? i : state.selected, visibleRows(next).length) };
    }
    case 'load-failed':
      return { ...state, loadError: action.error };
    case 'move':
      return { ...state, selected: clampIndex(state.selected + action.by, visibleRows(state).length) };
    case 'move-to':
      return { ...state, selected: clampIndex(action.index, visibleRows(state).length) };
    case 'filter-open':
      return { ...state, filterEditing: true };
    case 'filter-type':
      return { ...state, filter: state.filter + action.text, selected: 0 };
    case 'filter-erase':
      return { ...state, filter: [...state.filter].slice(0, -1).join(''), selected: 0 };
    case 'filter-keep':
      return { ...state, filterEditing: false, filter: state.filter.trim() };
    case 'filter-clear':
      return { ...state, filterEditing: false, filter: '', selected: 0 };
    case 'run-started':
      return { ...state, run: action.run, runDismissed: false };
    case 'run-dismissed':
      return { ...state, runDismissed: true };
  }
}
