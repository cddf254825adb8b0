import type { HealthReport } from '../../src/health/report.js';

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
}

export type HealthAction =
  | { type: 'target'; target: string | undefined }
  | { type: 'sampled'; target: string; report: HealthReport }
  | { type: 'failed'; target: string; error: string }
  | { type: 'toggle-pause' }
  | { type: 'interval'; by: number };

export const initialHealth: HealthState = {
  target: undefined,
  report: undefined,
  error: undefined,
  paused: false,
  interval: DEFAULT_INTERVAL_INDEX,
  samples: 0,
};

export function intervalSeconds(s: HealthState): number {
  return INTERVALS[s.interval] ?? 2;
}

export function healthReducer(state: HealthState, action: HealthAction): HealthState {
  switch (action.type) {
    case 'target':
      return state.target === action.target ? state : { ...state, target: action.target, report: undefined, error: undefined, samples: 0 };
    case 'sampled':
      return action.target !== state.target ? state : { ...state, report: action.report, error: undefined, samples: state.samples + 1 };
    case 'failed':
      return action.target !== state.target ? state : { ...state, error: action.error };
    case 'toggle-pause':
      return { ...state, paused: !state.paused };
    case 'interval':
      return { ...state, interval: Math.min(INTERVALS.length - 1, Math.max(0, state.interval + action.by)) };
  }
}
