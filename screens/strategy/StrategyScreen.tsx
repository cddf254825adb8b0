import { Box, Text, type Key } from 'ink';
import { useCallback, useEffect, useRef, useSyncExternalStore, type ReactNode } from 'react';
import { useApi } from '../App/ApiContext.js';
import { oneSentence } from '../hooks/jobStore.js';
import { useMounted } from '../hooks/useMounted.js';
import { useSyncedReducer } from '../hooks/useSyncedReducer.js';
import { useScreenContext, useScreenKeys } from '../keys/ScreenKeys.js';
import { useBodySize } from '../layout/bodySize.js';
import { hangingLines, truncateEnd } from '../text/width.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { editText } from '../widgets/TextField/TextField.js';
import { PolicyFormView } from './PolicyFormView.js';
import { strategyLines, type PaneLine } from './strategyLines.js';
import { initialStrategy, POLICY_FIELDS, STRATEGY_KEYS, strategyHints, strategyReducer, type StrategyState } from './strategyState.js';
import { ScrollPane } from '../widgets/ScrollPane/ScrollPane.js';

const TONE: Record<NonNullable<PaneLine['tone']>, { color?: string; dimColor?: boolean; bold?: boolean }> = {
  bad: { color: 'red' },
  warn: { color: 'yellow' },
  good: { color: 'green' },
  dim: { dimColor: true },
  head: { bold: true },
};

/**
 * A target's backup strategy: the policy, the week ahead, the last runs, what the next prune would
 * remove and why, and the forecast; `e` edits the policy with the same checks as `policy set`.
 * Read when shown, when another screen changes the repository, and on `g`.
 */
export function StrategyScreen(): ReactNode {
  const api = useApi();
  const { target, active, changes } = useScreenContext();
  const { width, height } = useBodySize();
  const mounted = useMounted();
  const [state, dispatch, current] = useSyncedReducer(strategyReducer, initialStrategy);

  useEffect(() => {
    dispatch({ type: 'target', target });
  }, [target, dispatch]);

  const load = useCallback(
    (name: string) => {
      dispatch({ type: 'loading' });
      api.readStrategy(name).then(
        (view) => mounted.current && dispatch({ type: 'view', target: name, view }),
        (e: unknown) => mounted.current && dispatch({ type: 'failed', target: name, error: oneSentence(e) }),
      );
      api.readForecast(name).then(
        (forecast) => mounted.current && dispatch({ type: 'forecast', target: name, forecast }),
        (e: unknown) => mounted.current && dispatch({ type: 'forecast-failed', target: name, error: oneSentence(e) }),
      );
    },
    [api, dispatch, mounted],
  );

  const changed = useSyncExternalStore(changes.subscribe, changes.version);
  const name = state.target;
  useEffect(() => {
    if (active && name !== undefined) load(name);
  }, [active, name, changed, load]);

  const save = async (st: StrategyState) => {
    const form = st.form;
    if (!form || form.saving || st.target === undefined) return;
    const name = st.target;
    dispatch({ type: 'form-saving' });
    try {
      await api.savePolicy(name, form.values);
      if (!mounted.current) return;
      dispatch({ type: 'saved', message: `Policy of ${name} saved; dbdrill tick follows it from its next run.` });
      load(name);
    } catch (e) {
      const field = (e as { detail?: { field?: string } }).detail?.field;
      if (mounted.current) dispatch({ type: 'form-error', error: oneSentence(e), ...(field !== undefined ? { field } : {}) });
    }
  };

  const scrollMax = useRef(0);
  const onKey = (input: string, key: Key): boolean => {
    const st = current();
    if (st.target === undefined) return false;
    if (st.form) {
      if (st.form.saving) return true;
      if (key.escape) dispatch({ type: 'form-close' });
      else if (key.return) void save(st);
      else if (key.tab) dispatch({ type: 'form-focus', by: key.shift ? -1 : 1 });
      else if (key.downArrow) dispatch({ type: 'form-focus', by: 1 });
      else if (key.upArrow) dispatch({ type: 'form-focus', by: -1 });
      else {
        const text = editText(st.form.values[POLICY_FIELDS[st.form.focus]!.field], input, key);
        if (text !== undefined) dispatch({ type: 'form-edit', text });
      }
      // Everything typed belongs to the form, digits and "q" included.
      return true;
    }
    const k = STRATEGY_KEYS.find((h) => h.matches(input, key));
    if (!k) return false;
    if (k.keys === 'e' && !st.view) return true;
    const a = k.action(input, key, scrollMax.current);
    if (a === 'reload') load(st.target);
    else dispatch(a);
    return true;
  };
  const formHints = [
    { keys: 'enter', label: 'save' },
    { keys: 'esc', label: 'cancel' },
  ];
  useScreenKeys(onKey, state.form ? formHints : state.target === undefined ? [] : strategyHints(), state.form !== undefined);

  if (state.target === undefined) {
    return (
      <Box width={width} height={height} overflow="hidden">
        <Text wrap="wrap">No target selected yet: pick one on Targets (1); its backup strategy is shown here.</Text>
      </Box>
    );
  }
  if (state.form) return <PolicyFormView target={state.target} form={state.form} width={width} height={height} />;

  const title = `${state.target} · strategy${state.view ? '' : ' · reading…'}`;
  const titleLine = (
    <Text bold wrap="truncate-end">
      {truncateEnd(title, width)}
    </Text>
  );
  if (!state.view) {
    return (
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        {titleLine}
        {state.error
          ? hangingLines(state.error, width, 5).map((l, i) => (
              <Text key={i} color="red" wrap="truncate-end">
                {i === 0 ? <StatusMarker marker="FAIL" /> : '    '} {l}
              </Text>
            ))
          : null}
      </Box>
    );
  }

  const top: ReactNode[] = [];
  if (state.message) {
    hangingLines(state.message, width, 5, 2).forEach((l, i) =>
      top.push(
        <Text key={`m${i}`} color="green" wrap="truncate-end">
          {i === 0 ? <StatusMarker marker="OK" /> : '    '} {l}
        </Text>,
      ),
    );
  }
  const lines = strategyLines(state.view, state.forecast, state.forecastError, width);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {titleLine}
      {top}
      <ScrollPane
        rows={lines.map((l) => (
          <Text key={l.key} wrap="truncate-end" {...(l.tone ? TONE[l.tone] : {})}>
            {l.text}
          </Text>
        ))}
        room={height - 1 - top.length}
        scroll={state.scroll}
        maxRef={scrollMax}
      />
    </Box>
  );
}
