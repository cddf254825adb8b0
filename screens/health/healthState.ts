import type { HealthReport } from '../../src/health/report.js';
import type { KeyHint } from '../keys/keymap.js';

/** Seconds between samples the operator can choose with + and -. */
export const INTERVALS = [1, 2, 5, 10, 30, 60] as const;
export const DEFAULT_INTERVAL_INDEX = 1;

export interface HealthState {
  target: string | undefined;
  report: HealthReport | undefined;
  /** Why the last sample could not be taken (not a CRIT: a bug or an unknown target). */
  error: string | undefined;
  paused: boolean;
  interval: number;
  /** Samples taken for this target, to show the panel is alive. */
  samples: number;
  /** First line shown of the scrolling pane (the checks and the numbers under the headline). */
  scroll: number;
}

export type HealthAction =
  | { type: 'target'; target: string | undefined }
  | { type: 'sampled'; target: string; report: HealthReport }
  | { type: 'failed'; target: string; error: string }
  | { type: 'toggle-pause' }
  | { type: 'interval'; by: number }
  | { type: 'scroll'; by: number; max: number };

export const initialHealth: HealthState = {
  target: undefined,
  report: undefined,
  error: undefined,
  paused: false,
  interval: DEFAULT_INTERVAL_INDEX,
  samples: 0,
  scroll: 0,
};

/**
 * Health's keys: the handler, the footer and the help overlay all read this one table, so what a
 * key is said to do is what it does. `+` lengthens the interval (samples less often), `-` shortens it.
 */
type ArrowKeys = { upArrow?: boolean; downArrow?: boolean };

export interface HealthKey {
  keys: string;
  /** For the help overlay. */
  help: string;
  /** For the footer, given the state (it shows the current interval or pause). */
  footer: (s: HealthState) => string;
  matches: (input: string, key: ArrowKeys) => boolean;
  /** What the key does; `max` is how far the pane can scroll. */
  action: (input: string, key: ArrowKeys, max: number) => HealthAction;
}

export const HEALTH_KEYS: readonly HealthKey[] = [
  { keys: 'space', help: 'pause', footer: (s) => (s.paused ? 'resume' : 'pause'), matches: (i) => i === ' ', action: () => ({ type: 'toggle-pause' }) },
  { keys: '+', help: 'less often', footer: (s) => `every ${intervalSeconds(s)}s, slower`, matches: (i) => i === '+' || i === '=', action: () => ({ type: 'interval', by: 1 }) },
  { keys: '-', help: 'more often', footer: () => 'faster', matches: (i) => i === '-', action: () => ({ type: 'interval', by: -1 }) },
  { keys: '↑↓', help: 'scroll the checks and numbers', footer: () => 'scroll', matches: (i, k) => k.upArrow === true || k.downArrow === true || i === 'j' || i === 'k', action: (i, k, max) => ({ type: 'scroll', by: k.upArrow === true || i === 'k' ? -1 : 1, max }) },
];

/** The footer's hints, from the table. */
export function healthHints(s: HealthState): KeyHint[] {
  return HEALTH_KEYS.map((k) => ({ keys: k.keys, label: k.footer(s) }));
}

/** The help overlay's line for Health, from the table. */
export function healthHelp(): KeyHint {
  const own = HEALTH_KEYS.filter((k) => k.keys !== '↑↓');
  return { keys: own.map((k) => k.keys).join(' '), label: `Health: ${own.map((k) => `${k.keys} ${k.help}`).join(', ')} (1 s … 60 s)` };
}

export function intervalSeconds(s: HealthState): number {
  return INTERVALS[s.interval] ?? 2;
}

export function healthReducer(state: HealthState, action: HealthAction): HealthState {
  switch (action.type) {
    case 'target':
      return state.target === action.target ? state : { ...state, target: action.target, report: undefined, error: undefined, samples: 0, scroll: 0 };
    case 'sampled':
      return action.target !== state.target ? state : { ...state, report: action.report, error: undefined, samples: state.samples + 1 };
    case 'failed':
      return action.target !== state.target ? state : { ...state, error: action.error };
    case 'toggle-pause':
      return { ...state, paused: !state.paused };
    case 'interval':
      return { ...state, interval: Math.min(INTERVALS.length - 1, Math.max(0, state.interval + action.by)) };
    case 'scroll':
      return { ...state, scroll: Math.max(0, Math.min(action.max, state.scroll + action.by)) };
  }
}
