import type { Key } from 'ink';
import type { ScreenId } from '../App/screenList.js';
import type { KeyHint } from './keymap.js';

/** Returns true when the screen used the key, so the shell must not act on it too. */
export type ScreenKeyHandler = (input: string, key: Key) => boolean;

export interface ScreenHints {
  hints: readonly KeyHint[];
  /** The screen takes every key (a filter line being typed): the shell's keys do not apply. */
  exclusive: boolean;
}

const NO_HINTS: ScreenHints = { hints: [], exclusive: false };

/**
 * Routes keys screen-first: Ink calls every useInput listener for every key, so a single
 * listener in the shell asks the current screen before acting (a filter line must get "q" and
 * "2" as text). Hints are an external store so only the footer re-renders when they change.
 */
export class KeyRouter {
  readonly #handlers = new Map<ScreenId, ScreenKeyHandler>();
  readonly #hints = new Map<ScreenId, ScreenHints>();
  readonly #signatures = new Map<ScreenId, string>();
  readonly #listeners = new Set<() => void>();
  readonly #guards = new Map<ScreenId, () => void>();
  readonly #busy = new Set<ScreenId>();
  readonly #readyListeners = new Set<() => void>();

  /**
   * A screen that cannot take keys yet (reading what it shows: Restore's window, Catalog's list)
   * says so; the shell then holds the keys typed meanwhile and replays them, in order, when it is
   * ready. A burst typed across a screen change ("enter 3 tab ⌫… -2m enter") is never lost.
   */
  setBusy(screen: ScreenId, busy: boolean): void {
    if (busy === this.#busy.has(screen)) return;
    if (busy) this.#busy.add(screen);
    else {
      this.#busy.delete(screen);
      for (const l of this.#readyListeners) l();
    }
  }

  isBusy(screen: ScreenId): boolean {
    return this.#busy.has(screen);
  }

  onReady(listener: () => void): () => void {
    this.#readyListeners.add(listener);
    return () => this.#readyListeners.delete(listener);
  }

  setHandler(screen: ScreenId, handler: ScreenKeyHandler | undefined): void {
    if (handler) this.#handlers.set(screen, handler);
    else this.#handlers.delete(screen);
  }

  /**
   * A screen running a job that quitting would cancel (a backup, a restore) registers a guard:
   * ctrl-c and q-to-quit then ask that screen's question instead of closing the console.
   */
  setGuard(screen: ScreenId, guard: (() => void) | undefined): void {
    if (guard) this.#guards.set(screen, guard);
    else this.#guards.delete(screen);
  }

  /** Runs the guard of `current` or else of any guarded screen; returns the screen that asks, if any. */
  guard(current: ScreenId): ScreenId | undefined {
    const own = this.#guards.get(current);
    if (own) {
      own();
      return current;
    }
    for (const [screen, guard] of this.#guards) {
      guard();
      return screen;
    }
    return undefined;
  }

  dispatch(screen: ScreenId, input: string, key: Key): boolean {
    return this.#handlers.get(screen)?.(input, key) ?? false;
  }

  setHints(screen: ScreenId, hints: readonly KeyHint[], exclusive = false): void {
    const signature = `${exclusive}\u0002` + hints.map((h) => `${h.keys}\u0000${h.label}`).join('\u0001');
    if (this.#signatures.get(screen) === signature) return;
    this.#signatures.set(screen, signature);
    this.#hints.set(screen, { hints, exclusive });
    for (const l of this.#listeners) l();
  }

  hints(screen: ScreenId): ScreenHints {
    return this.#hints.get(screen) ?? NO_HINTS;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
}
