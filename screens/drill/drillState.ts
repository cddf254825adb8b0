import type { DrillReport } from '../../src/drill/report.js';
import type { JobStore } from '../hooks/jobStore.js';
import { clampIndex } from '../widgets/DataTable/fit.js';

export type DrillField = 'to' | 'rto' | 'rpo' | 'history';
export const DRILL_FIELDS: readonly DrillField[] = ['to', 'rto', 'rpo', 'history'];

export interface DrillRun {
  store: JobStore<DrillReport>;
  target: string;
  /** Epoch ms: the RTO clock runs from here. */
  startedAt: number;
  to: string;
  /** Objectives as asked (blank: the target's own). */
  rto: string;
  rpo: string;
}

export interface DrillState {
  target: string | undefined;
  to: string;
  rto: string;
  rpo: string;
  focus: DrillField;
  history: DrillReport[] | undefined;
  historyError: string | undefined;
  selected: number;
  /** A history entry opened with enter. */
  opened: string | undefined;
  run: DrillRun | undefined;
  /** The run is finished but still on screen (until enter or esc). */
  runShown: boolean;
  asking: boolean;
  /** The focused text field still shows its old value whole: the first key typed replaces it. */
  replacing: boolean;
  /** First line shown of an opened report. */
  reportScroll: number;
}

export type DrillAction =
  | { type: 'target'; target: string | undefined }
  | { type: 'history'; target: string; drills: DrillReport[] }
  | { type: 'history-failed'; target: string; error: string }
  | { type: 'focus'; focus: DrillField }
  | { type: 'edit'; field: 'to' | 'rto' | 'rpo'; text: string }
  | { type: 'move'; by: number }
  | { type: 'open'; id: string | undefined }
  | { type: 'run-started'; run: DrillRun }
  | { type: 'run-closed' }
  | { type: 'ask' }
  | { type: 'answered' }
  | { type: 'report-scroll'; by: number; max: number };

export const initialDrill: DrillState = {
  target: undefined,
  to: 'latest',
  rto: '',
  rpo: '',
  // Not a text field: the number keys must still switch screens when Drill opens.
  focus: 'history',
  history: undefined,
  historyError: undefined,
  selected: 0,
  opened: undefined,
  run: undefined,
  runShown: false,
  asking: false,
  replacing: false,
  reportScroll: 0,
};

export function drillReducer(state: DrillState, action: DrillAction): DrillState {
  switch (action.type) {
    case 'target':
      if (state.target === action.target) return state;
      // A running drill keeps its own target; the form and history follow the selection.
      return { ...state, target: action.target, history: undefined, historyError: undefined, selected: 0, opened: undefined };
    case 'history':
      if (action.target !== state.target) return state;
      return { ...state, history: action.drills, historyError: undefined, selected: clampIndex(state.selected, action.drills.length) };
    case 'history-failed':
      return action.target !== state.target ? state : { ...state, historyError: action.error };
    case 'focus':
      return { ...state, focus: action.focus, replacing: action.focus !== 'history' };
    case 'edit':
      return { ...state, [action.field]: action.text, replacing: false };
    case 'move':
      return { ...state, selected: clampIndex(state.selected + action.by, state.history?.length ?? 0) };
    case 'open':
      return { ...state, opened: action.id, reportScroll: 0 };
    case 'report-scroll':
      return { ...state, reportScroll: Math.max(0, Math.min(action.max, state.reportScroll + action.by)) };
    case 'run-started':
      return { ...state, run: action.run, runShown: true, asking: false, opened: undefined };
    case 'run-closed':
      // Back from a run the keys go to the history again, so 1-6 switch screens (never "10s1").
      return { ...state, runShown: false, asking: false, focus: 'history', replacing: false };
    case 'ask':
      return { ...state, asking: true };
    case 'answered':
      return { ...state, asking: false };
  }
}
