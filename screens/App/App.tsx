import { Box, Text, useApp, useInput, useStdin, type Key } from 'ink';
import { useEffect, useMemo, useRef, useState, useSyncExternalStore, type ComponentType, type ReactNode } from 'react';
import type { ConsoleApi } from '../api.js';
import { CatalogScreen } from '../catalog/CatalogScreen.js';
import { DrillScreen } from '../drill/DrillScreen.js';
import { HealthScreen } from '../health/HealthScreen.js';
import { ChangeFeed } from '../hooks/changeFeed.js';
import { useSyncedReducer } from '../hooks/useSyncedReducer.js';
import { useTerminalSize } from '../hooks/useTerminalSize.js';
import { KeyRouter } from '../keys/keyRouter.js';
import { splitKeys } from '../keys/splitKeys.js';
import { globalHints } from '../keys/keymap.js';
import { ScreenContext, type ScreenContextValue } from '../keys/ScreenKeys.js';
import { BodySizeContext } from '../layout/bodySize.js';
import { Footer, FOOTER_HEIGHT } from '../layout/Footer/Footer.js';
import { Header, HEADER_HEIGHT } from '../layout/Header/Header.js';
import { HelpOverlay } from '../layout/HelpOverlay/HelpOverlay.js';
import { RestoreScreen } from '../restore/RestoreScreen.js';
import { StrategyScreen } from '../strategy/StrategyScreen.js';
import { TargetsScreen } from '../targets/TargetsScreen.js';
import { TrainingScreen } from '../training/TrainingScreen.js';
import { ApiContext } from './ApiContext.js';
import { SCREENS, screenForKey, type ScreenId } from './screenList.js';
import { initialShell, shellReducer, type Handoff } from './shellState.js';

const SCREEN_COMPONENTS: Record<ScreenId, ComponentType> = {
  targets: TargetsScreen,
  catalog: CatalogScreen,
  restore: RestoreScreen,
  drill: DrillScreen,
  health: HealthScreen,
  training: TrainingScreen,
  strategy: StrategyScreen,
};

export const MIN_COLUMNS = 40;
/** How long keys wait for a busy screen before they are given to it anyway. */
const HOLD_MS = 3000;
export const MIN_ROWS = 10;

/**
 * The console shell: header, the current screen, footer, help overlay and the global keys.
 * Every screen stays mounted (hidden when not shown) so a selection, a filter or a running job
 * survives a trip to another screen; only the shown one gets keys.
 */
export function App({ api }: { api: ConsoleApi }): ReactNode {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const { columns, rows } = useTerminalSize();
  const [state, dispatch, current] = useSyncedReducer(shellReducer, initialShell);
  const [router] = useState(() => new KeyRouter());
  const [changes] = useState(() => new ChangeFeed());

  const go = useMemo(
    () => (screen: ScreenId, target?: string, backup?: string) =>
      dispatch({ type: 'go', screen, ...(target !== undefined ? { target } : {}), ...(backup !== undefined ? { backup } : {}) }),
    [dispatch],
  );
  const select = useMemo(() => (target: string) => dispatch({ type: 'select', target }), [dispatch]);

  // Keys typed while the shown screen is busy (reading what it will show), replayed in order.
  const held = useRef<Array<[string, Key]>>([]);
  const onKey = useMemo(() => {
    const one = (input: string, key: Key, replay = false): void => {
      const { screen, help } = current();
      if (!replay && !(key.ctrl && input === 'c') && !help && (router.isBusy(screen) || held.current.length > 0)) {
        held.current.push([input, key]);
        // Never held for ever: a screen that stays busy gets the keys anyway.
        setTimeout(() => drain(true), HOLD_MS);
        return;
      }
      // Ink's own ctrl-c exit is off (exitOnCtrlC: false) so every way out is this one path,
      // which a screen running a backup or a restore guards: it asks before anything is cancelled.
      const quit = (): void => {
        const asking = router.guard(screen);
        if (asking) return go(asking);
        exit();
      };
      if (key.ctrl && input === 'c') return quit();
      if (help) {
        if (input === '?' || input === 'q' || key.escape) dispatch({ type: 'close-help' });
        return;
      }
      if (router.dispatch(screen, input, key)) return;
      const jump = screenForKey(input);
      if (jump) return go(jump);
      if (input === '?') return dispatch({ type: 'toggle-help' });
      if (key.escape || input === 'q') {
        if (screen !== 'targets') return go('targets');
        // esc on the top level does nothing: a stray escape must not close the console.
        if (input === 'q') return quit();
      }
    };
    let draining = false;
    const drain = (force: boolean): void => {
      if (draining) return;
      draining = true;
      try {
        // In order; a key that switches to a busy screen makes the ones after it wait again.
        while (held.current.length > 0) {
          if (!force && router.isBusy(current().screen)) return;
          const [i, k] = held.current.shift()!;
          one(i, k, true);
        }
      } finally {
        draining = false;
      }
    };
    const handler = (input: string, key: Key) => {
      for (const [i, k] of splitKeys(input, key)) one(i, k);
    };
    return { handler, drain };
  }, [exit, go, router, current, dispatch]);
  useInput(onKey.handler, { isActive: isRawModeSupported === true });
  useEffect(() => router.onReady(() => setImmediate(() => onKey.drain(false))), [router, onKey]);

  const tooSmall = columns < MIN_COLUMNS || rows < MIN_ROWS;
  // One line short of the terminal: a frame as tall as the window makes Ink clear the screen on
  // every update (flicker, lost scrollback).
  const height = Math.max(1, rows - 1);
  const bodyHeight = Math.max(1, height - HEADER_HEIGHT - FOOTER_HEIGHT);
  const body = useMemo(() => ({ width: columns, height: bodyHeight }), [columns, bodyHeight]);

  return (
    <ApiContext.Provider value={api}>
      <Box flexDirection="column" width={columns} height={height} overflow="hidden">
        {tooSmall && (
          <Text wrap="wrap">
            {`dbdrill needs at least ${MIN_COLUMNS}x${MIN_ROWS}; this terminal is ${columns}x${rows}. ctrl-c quits.`}
          </Text>
        )}
        <Box display={tooSmall ? 'none' : 'flex'}>
          <Header version={api.version} screen={state.screen} configDir={api.configDir} width={columns} />
        </Box>
        <BodySizeContext.Provider value={body}>
          <Box display={tooSmall ? 'none' : 'flex'} flexDirection="column" width={columns} height={bodyHeight} overflow="hidden">
            {state.help && <HelpOverlay width={columns} height={bodyHeight} />}
            {SCREENS.map(({ id }) => (
              <ScreenSlot
                key={id}
                id={id}
                router={router}
                shown={!state.help && state.screen === id}
                target={state.target}
                handoff={state.handoff}
                go={go}
                select={select}
                changes={changes}
              />
            ))}
          </Box>
        </BodySizeContext.Provider>
        <Box display={tooSmall ? 'none' : 'flex'}>
          <ShellFooter router={router} screen={state.screen} help={state.help} width={columns} />
        </Box>
      </Box>
    </ApiContext.Provider>
  );
}

interface ScreenSlotProps {
  id: ScreenId;
  router: KeyRouter;
  shown: boolean;
  target: string | undefined;
  handoff: Handoff | undefined;
  go: (screen: ScreenId, target?: string, backup?: string) => void;
  select: (target: string) => void;
  changes: ChangeFeed;
}

function ScreenSlot({ id, router, shown, target, handoff, go, select, changes }: ScreenSlotProps): ReactNode {
  const Screen = SCREEN_COMPONENTS[id];
  const value = useMemo<ScreenContextValue>(
    () => ({ router, screen: id, active: shown, target, handoff, go, select, changes }),
    [router, id, shown, target, handoff, go, select, changes],
  );
  return (
    <Box display={shown ? 'flex' : 'none'} flexDirection="column">
      <ScreenContext.Provider value={value}>
        <Screen />
      </ScreenContext.Provider>
    </Box>
  );
}

function ShellFooter({ router, screen, help, width }: { router: KeyRouter; screen: ScreenId; help: boolean; width: number }): ReactNode {
  const own = useSyncExternalStore(router.subscribe, () => router.hints(screen));
  if (help) return <Footer hints={[]} pinned={[{ keys: '? esc', label: 'close help' }, { keys: 'ctrl-c', label: 'quit' }]} width={width} />;
  // A screen that takes every key (a filter being typed) lists its own way out.
  if (own.exclusive) return <Footer hints={own.hints} width={width} />;
  return <Footer hints={own.hints} pinned={globalHints(screen === 'targets')} width={width} />;
}
