import type { PolicyField, PolicyForm, StrategyPlan, StrategyView } from '../api.js';
import type { KeyHint } from '../keys/keymap.js';

/** The policy form's fields in order, as `policy set` names them (its sentences name them so too). */
export const POLICY_FIELDS: readonly { field: PolicyField; hint: string }[] = [
  { field: 'full', hint: 'cron, e.g. 0 2 * * 0' },
  { field: 'diff', hint: 'cron, e.g. 0 2 * * 1-6' },
  { field: 'incr', hint: 'cron, e.g. @hourly' },
  { field: 'logical', hint: 'cron (a dump)' },
  { field: 'verify', hint: 'cron, checksum verify' },
  { field: 'restore-verify', hint: 'cron, verify by restoring' },
  { field: 'drill', hint: 'cron, e.g. @monthly' },
  { field: 'keep-full', hint: 'newest N fulls' },
  { field: 'keep-diff', hint: 'newest N diffs' },
  { field: 'keep-days', hint: 'all backups of D days' },
  { field: 'keep-archive', hint: 'D days of WAL/binlogs' },
  { field: 'gfs', hint: 'e.g. 7d,4w,12m,7y' },
  { field: 'time-limit', hint: 'per job, blank: 24h' },
];

export interface PolicyFormState {
  values: PolicyForm;
  focus: number;
  error?: string;
  saving: boolean;
}

export interface StrategyState {
  target: string | undefined;
  view: StrategyView | undefined;
  /** Why the view could not be read (an unknown target, an unreadable config). */
  error: string | undefined;
  forecast: StrategyPlan | undefined;
  forecastError: string | undefined;
  /** Reads under way (the view and the forecast come separately: the forecast asks the server). */
  loading: boolean;
  scroll: number;
  form: PolicyFormState | undefined;
  message: string | undefined;
}

export type StrategyAction =
  | { type: 'target'; target: string | undefined }
  | { type: 'loading' }
  | { type: 'view'; target: string; view: StrategyView }
  | { type: 'failed'; target: string; error: string }
  | { type: 'forecast'; target: string; forecast: StrategyPlan }
  | { type: 'forecast-failed'; target: string; error: string }
  | { type: 'scroll'; by: number; max: number }
  | { type: 'form-open' }
  | { type: 'form-close' }
  | { type: 'form-focus'; by: number }
  | { type: 'form-edit'; text: string }
  | { type: 'form-saving' }
  | { type: 'form-error'; error: string; field?: string }
  | { type: 'saved'; message: string };

export const initialStrategy: StrategyState = {
  target: undefined,
  view: undefined,
  error: undefined,
  forecast: undefined,
  forecastError: undefined,
  loading: false,
  scroll: 0,
  form: undefined,
  message: undefined,
};

/** The form filled from the policy as stored: what is set shows, a blank is "not set". */
export function formOf(view: StrategyView | undefined): PolicyFormState {
  const p = view?.policy;
  const r = p?.retention;
  const n = (v: number | undefined) => (v === undefined ? '' : String(v));
  const values = Object.fromEntries(POLICY_FIELDS.map((f) => [f.field, ''])) as PolicyForm;
  for (const [job, expr] of Object.entries(p?.schedule ?? {})) values[job as PolicyField] = expr ?? '';
  Object.assign(values, { 'keep-full': n(r?.keepFull), 'keep-diff': n(r?.keepDiff), 'keep-days': n(r?.keepDays), 'keep-archive': n(r?.keepArchive), gfs: r?.gfs ?? '', 'time-limit': p?.timeLimit ?? '' });
  return { values, focus: 0, saving: false };
}

type ArrowKeys = { upArrow?: boolean; downArrow?: boolean };

/**
 * The Strategy screen's keys (outside the form): the handler, the footer and the help overlay all
 * read this one table, so what a key is said to do is what it does.
 */
export interface StrategyKey {
  keys: string;
  help: string;
  footer: string;
  matches: (input: string, key: ArrowKeys) => boolean;
  action: (input: string, key: ArrowKeys, max: number) => StrategyAction | 'reload';
}

export const STRATEGY_KEYS: readonly StrategyKey[] = [
  { keys: 'e', help: 'edit the policy', footer: 'edit policy', matches: (i) => i === 'e', action: () => ({ type: 'form-open' }) },
  { keys: 'g', help: 'read again', footer: 'refresh', matches: (i) => i === 'g', action: () => 'reload' },
  { keys: '↑↓', help: 'scroll', footer: 'scroll', matches: (i, k) => k.upArrow === true || k.downArrow === true || i === 'j' || i === 'k', action: (i, k, max) => ({ type: 'scroll', by: k.upArrow === true || i === 'k' ? -1 : 1, max }) },
];

export function strategyHints(): KeyHint[] {
  return STRATEGY_KEYS.map((k) => ({ keys: k.keys, label: k.footer }));
}

/** The help overlay's line for Strategy, from the table. */
export function strategyHelp(): KeyHint {
  const own = STRATEGY_KEYS.filter((k) => k.keys !== '↑↓');
  return { keys: own.map((k) => k.keys).join(' '), label: `Strategy: ${own.map((k) => `${k.keys} ${k.help}`).join(', ')}` };
}

export function strategyReducer(state: StrategyState, action: StrategyAction): StrategyState {
  switch (action.type) {
    case 'target':
      return state.target === action.target ? state : { ...initialStrategy, target: action.target };
    case 'loading':
      return { ...state, loading: true };
    case 'view':
      return action.target !== state.target ? state : { ...state, view: action.view, error: undefined, loading: false };
    case 'failed':
      return action.target !== state.target ? state : { ...state, error: action.error, loading: false };
    case 'forecast':
      return action.target !== state.target ? state : { ...state, forecast: action.forecast, forecastError: undefined };
    case 'forecast-failed':
      return action.target !== state.target ? state : { ...state, forecastError: action.error };
    case 'scroll':
      return { ...state, scroll: Math.max(0, Math.min(action.max, state.scroll + action.by)) };
    case 'form-open':
      return { ...state, form: formOf(state.view), message: undefined };
    case 'form-close':
      return { ...state, form: undefined };
    case 'form-focus':
      return state.form ? { ...state, form: { ...state.form, focus: (state.form.focus + action.by + POLICY_FIELDS.length) % POLICY_FIELDS.length } } : state;
    case 'form-edit': {
      const f = state.form;
      if (!f) return state;
      const { error: _e, ...rest } = f;
      return { ...state, form: { ...rest, values: { ...f.values, [POLICY_FIELDS[f.focus]!.field]: action.text } } };
    }
    case 'form-saving':
      return state.form ? { ...state, form: { ...state.form, saving: true } } : state;
    case 'form-error': {
      if (!state.form) return state;
      const at = POLICY_FIELDS.findIndex((f) => f.field === action.field);
      return { ...state, form: { ...state.form, saving: false, error: action.error, focus: at >= 0 ? at : state.form.focus } };
    }
    case 'saved':
      return { ...state, form: undefined, message: action.message };
  }
}
