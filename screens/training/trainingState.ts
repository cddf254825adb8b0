import type { TrainingSession } from '../../src/training/session.js';
import type { JobStore } from '../hooks/jobStore.js';
import { clampIndex } from '../widgets/DataTable/fit.js';

export interface TrainingRun {
  store: JobStore<unknown>;
  title: string;
  /** The closing line on success (a score adds its points). */
  doneText: string;
}

export interface TrainingState {
  /** The training sandbox's target name; undefined while unknown, null when there is none. */
  sandbox: string | null | undefined;
  session: TrainingSession | undefined;
  loaded: boolean;
  error: string | undefined;
  /** Menu cursor over DISASTERS. */
  choice: number;
  /** The sandbox's name as typed to confirm a disaster. */
  confirming: { typed: string; hint?: string } | undefined;
  run: TrainingRun | undefined;
  runShown: boolean;
}

export type TrainingAction =
  | { type: 'sandbox'; name: string | null }
  | { type: 'session'; session: TrainingSession | undefined }
  | { type: 'failed'; error: string }
  | { type: 'move'; by: number; count: number }
  | { type: 'confirm-open' }
  | { type: 'confirm-type'; text: string }
  | { type: 'confirm-hint'; text: string }
  | { type: 'confirm-close' }
  | { type: 'run-started'; run: TrainingRun }
  | { type: 'run-closed' };

export const initialTraining: TrainingState = {
  sandbox: undefined,
  session: undefined,
  loaded: false,
  error: undefined,
  choice: 0,
  confirming: undefined,
  run: undefined,
  runShown: false,
};

export function trainingReducer(state: TrainingState, action: TrainingAction): TrainingState {
  switch (action.type) {
    case 'sandbox':
      return { ...state, sandbox: action.name };
    case 'session':
      return { ...state, session: action.session, loaded: true, error: undefined };
    case 'failed':
      return { ...state, error: action.error, loaded: true };
    case 'move':
      return { ...state, choice: clampIndex(state.choice + action.by, action.count) };
    case 'confirm-open':
      return { ...state, confirming: { typed: '' } };
    case 'confirm-type':
      return state.confirming ? { ...state, confirming: { typed: action.text } } : state;
    case 'confirm-hint':
      return state.confirming ? { ...state, confirming: { ...state.confirming, hint: action.text } } : state;
    case 'confirm-close':
      return { ...state, confirming: undefined };
    case 'run-started':
      return { ...state, run: action.run, runShown: true, confirming: undefined };
    case 'run-closed':
      return { ...state, runShown: false };
  }
}
