import type { Target } from '../../src/config/target.js';
import type { ProbeResult } from '../../src/engines/probe-types.js';
import type { TargetForm, TargetRow, TargetSummary } from '../api.js';
import type { JobStore } from '../hooks/jobStore.js';
import { FORM_FIELDS, type FormState } from './formState.js';
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
  /** Archiver status and window per target, filled in as each answers. */
  summaries: Record<string, TargetSummary>;
  form: FormState | undefined;
  /** Removing a target: its name must be typed to confirm. */
  removing: { name: string; typed: string; hint?: string } | undefined;
  /** The newest connection test, shown under the table. */
  test: { name: string; store: JobStore<ProbeResult> } | undefined;
  /** One sentence after an action (removed, saved). */
  message: { marker: 'OK' | 'FAIL'; text: string } | undefined;
}

export type TargetsAction =
  /** `select`: put the cursor on this target (one just added), clearing a filter that hides it. */
  | { type: 'loaded'; rows: TargetRow[]; select?: string }
  | { type: 'load-failed'; error: string }
  | { type: 'move'; by: number }
  | { type: 'move-to'; index: number }
  | { type: 'filter-open' }
  | { type: 'filter-type'; text: string }
  | { type: 'filter-erase' }
  | { type: 'filter-keep' }
  | { type: 'filter-clear' }
  | { type: 'run-started'; run: JobStore<Target> }
  | { type: 'run-dismissed' }
  | { type: 'summary'; name: string; summary: TargetSummary }
  | { type: 'form-open'; form: FormState }
  | { type: 'form-focus'; by: number }
  | { type: 'form-edit'; field: keyof TargetForm; text: string }
  | { type: 'form-saving' }
  | { type: 'form-error'; error: string; focus?: number }
  | { type: 'form-close' }
  | { type: 'remove-ask'; name: string }
  | { type: 'remove-type'; text: string }
  | { type: 'remove-hint'; text: string }
  | { type: 'remove-close' }
  | { type: 'test-started'; name: string; store: JobStore<ProbeResult> }
  | { type: 'test-dismissed' }
  | { type: 'message'; marker: 'OK' | 'FAIL'; text: string }
  | { type: 'clear-message' };

export const initialTargets: TargetsState = {
  rows: undefined,
  loadError: undefined,
  selected: 0,
  filter: '',
  filterEditing: false,
  run: undefined,
  runDismissed: false,
  summaries: {},
  form: undefined,
  removing: undefined,
  test: undefined,
  message: undefined,
};

export function visibleRows(state: TargetsState): TargetRow[] {
  return (state.rows ?? []).filter((r) => matchesFilter([r.name, r.engine, r.host, `${r.host}:${r.port}`, r.dbname], state.filter));
}

export function targetsReducer(state: TargetsState, action: TargetsAction): TargetsState {
  switch (action.type) {
    case 'loaded': {
      // A reload that found nothing new changes nothing: no re-render of a fleet's table every
      // RELOAD_MS (the console's idle CPU).
      if (state.rows && action.select === undefined && state.loadError === undefined && JSON.stringify(action.rows) === JSON.stringify(state.rows)) return state;
      // Keep the cursor on the same target across reloads, if it is still there.
      const current = action.select ?? visibleRows(state)[state.selected]?.name;
      let next: TargetsState = { ...state, rows: action.rows, loadError: undefined };
      if (action.select !== undefined && !visibleRows(next).some((r) => r.name === action.select)) next = { ...next, filter: '', filterEditing: false };
      // A connection test of a target that is gone (removed here or elsewhere) says nothing true any more.
      if (next.test && !action.rows.some((r) => r.name === next.test!.name)) next = { ...next, test: undefined };
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
    case 'summary':
      return { ...state, summaries: { ...state.summaries, [action.name]: action.summary } };
    case 'form-open':
      return { ...state, form: action.form, message: undefined };
    case 'form-focus': {
      if (!state.form) return state;
      const n = FORM_FIELDS.length;
      // The name of an edited target is fixed: focus skips it.
      const min = state.form.mode === 'edit' ? 1 : 0;
      let focus = (state.form.focus + action.by + n) % n;
      if (focus < min) focus = action.by < 0 ? n - 1 : min;
      return { ...state, form: { ...state.form, focus } };
    }
    case 'form-edit':
      return state.form ? { ...state, form: { ...state.form, values: { ...state.form.values, [action.field]: action.text }, error: undefined } } : state;
    case 'form-saving':
      return state.form ? { ...state, form: { ...state.form, saving: true, error: undefined } } : state;
    case 'form-error':
      return state.form ? { ...state, form: { ...state.form, saving: false, error: action.error, focus: action.focus ?? state.form.focus } } : state;
    case 'form-close':
      return { ...state, form: undefined };
    case 'remove-ask':
      return { ...state, removing: { name: action.name, typed: '' }, message: undefined };
    case 'remove-type':
      return state.removing ? { ...state, removing: { ...state.removing, typed: action.text, hint: undefined } } : state;
    case 'remove-hint':
      return state.removing ? { ...state, removing: { ...state.removing, hint: action.text } } : state;
    case 'remove-close':
      return { ...state, removing: undefined };
    case 'test-started':
      return { ...state, test: { name: action.name, store: action.store }, message: undefined };
    case 'test-dismissed':
      return { ...state, test: undefined };
    case 'message':
      return { ...state, message: { marker: action.marker, text: action.text } };
    case 'clear-message':
      return state.message ? { ...state, message: undefined } : state;
  }
}

/**
 * How often the ages in the "newest backup" column change as shown: every second below an hour
 * ("9m58s"), every minute above ("2h5m"), never without a backup. The screen's clock ticks at
 * that pace, so an idle console over a fleet does not redraw a table that looks the same.
 */
export function ageTickMs(rows: readonly { newestBackupAt?: string }[], now: number): number | undefined {
  let tick: number | undefined;
  for (const r of rows) {
    const at = r.newestBackupAt ? Date.parse(r.newestBackupAt) : Number.NaN;
    if (Number.isNaN(at)) continue;
    if (now - at < 3_600_000) return 1000;
    tick = 60_000;
  }
  return tick;
}
