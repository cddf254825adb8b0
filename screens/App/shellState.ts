import type { ScreenId } from './screenList.js';

/** A backup one screen hands to another (Catalog's `r` opens Restore preset to that backup). */
export interface Handoff {
  backup: string;
  /** Increases with every hand-off, so the same backup handed twice still presets again. */
  seq: number;
}

export interface ShellState {
  screen: ScreenId;
  help: boolean;
  /** The target selected on Targets (the cursor's, or the one opened); the other screens show that one. */
  target?: string;
  handoff?: Handoff;
}

export type ShellAction =
  | { type: 'go'; screen: ScreenId; target?: string; backup?: string }
  | { type: 'select'; target: string }
  | { type: 'toggle-help' }
  | { type: 'close-help' };

export const initialShell: ShellState = { screen: 'targets', help: false };

export function shellReducer(state: ShellState, action: ShellAction): ShellState {
  switch (action.type) {
    case 'go': {
      const next: ShellState = { ...state, screen: action.screen, help: false };
      if (action.target !== undefined) next.target = action.target;
      if (action.backup !== undefined) next.handoff = { backup: action.backup, seq: (state.handoff?.seq ?? 0) + 1 };
      return next;
    }
    case 'select':
      return state.target === action.target ? state : { ...state, target: action.target };
    case 'toggle-help':
      return { ...state, help: !state.help };
    case 'close-help':
      return state.help ? { ...state, help: false } : state;
  }
}
