import type { ScreenId } from './screenList.js';

export interface ShellState {
  screen: ScreenId;
  help: boolean;
  /** The target the operator opened on Targets; the other screens show that one. */
  target?: string;
}

export type ShellAction =
  | { type: 'go'; screen: ScreenId; target?: string }
  | { type: 'toggle-help' }
  | { type: 'close-help' };

export const initialShell: ShellState = { screen: 'targets', help: false };

export function shellReducer(state: ShellState, action: ShellAction): ShellState {
  switch (action.type) {
    case 'go': {
      const next: ShellState = { ...state, screen: action.screen, help: false };
      if (action.target !== undefined) next.target = action.target;
      return next;
    }
    case 'toggle-help':
      return { ...state, help: !state.help };
    case 'close-help':
      return state.help ? { ...state, help: false } : state;
  }
}
