import { createContext, useContext, useLayoutEffect, useRef } from 'react';
import type { ScreenId } from '../App/screenList.js';
import type { Handoff } from '../App/shellState.js';
import type { ChangeFeed } from '../hooks/changeFeed.js';
import type { KeyRouter, ScreenKeyHandler } from './keyRouter.js';
import type { KeyHint } from './keymap.js';

export interface ScreenContextValue {
  router: KeyRouter;
  screen: ScreenId;
  /** Whether this screen is the one on display (hidden screens stay mounted to keep their state). */
  active: boolean;
  /** The target opened on Targets, for screens that show one target. */
  target: string | undefined;
  /** The newest backup handed over by another screen (Catalog's `r` to Restore). */
  handoff: Handoff | undefined;
  go(screen: ScreenId, target?: string, backup?: string): void;
  /** Makes `name` the selected target without leaving the screen (the number keys then use it). */
  select(name: string): void;
  /** Tells every screen that `name`'s repository changed (a backup, verify, drill or disaster ended). */
  changes: ChangeFeed;
}

export const ScreenContext = createContext<ScreenContextValue | undefined>(undefined);

export function useScreenContext(): ScreenContextValue {
  const ctx = useContext(ScreenContext);
  if (!ctx) throw new Error('A screen must be rendered inside the console App.');
  return ctx;
}

/**
 * Registers the keys this screen handles and the footer hints for them. The handler is read
 * through a ref so it always sees this render's state without re-registering.
 */
/**
 * While `guard` is given, quitting the console (ctrl-c, q on Targets) calls it instead: the screen
 * shows its "Cancel …? y/N" question, and only a yes cancels.
 */
export function useQuitGuard(guard: (() => void) | undefined): void {
  const { router, screen } = useScreenContext();
  const ref = useRef(guard);
  ref.current = guard;
  const on = guard !== undefined;
  useLayoutEffect(() => {
    if (!on) return;
    router.setGuard(screen, () => ref.current?.());
    return () => router.setGuard(screen, undefined);
  }, [router, screen, on]);
}

export function useScreenKeys(handler: ScreenKeyHandler, hints: readonly KeyHint[], exclusive = false, busy = false): void {
  const { router, screen } = useScreenContext();
  // Busy: keys typed now are held by the shell and replayed once this screen can take them.
  useLayoutEffect(() => {
    router.setBusy(screen, busy);
  }, [router, screen, busy]);
  useLayoutEffect(() => () => router.setBusy(screen, false), [router, screen]);
  const ref = useRef(handler);
  ref.current = handler;
  useLayoutEffect(() => {
    router.setHandler(screen, (input, key) => ref.current(input, key));
    return () => router.setHandler(screen, undefined);
  }, [router, screen]);
  useLayoutEffect(() => {
    router.setHints(screen, hints, exclusive);
  });
}
