import { Box, Text, type Key } from 'ink';
import { useCallback, useEffect, useRef, type ReactNode } from 'react';
import { useApi } from '../App/ApiContext.js';
import { JobStore, oneSentence } from '../hooks/jobStore.js';
import { useRunFinished } from '../hooks/useRunFinished.js';
import { useJobEvents } from '../hooks/useJobEvents.js';
import { useMounted } from '../hooks/useMounted.js';
import { useSyncedReducer } from '../hooks/useSyncedReducer.js';
import type { KeyHint } from '../keys/keymap.js';
import { runKeys } from '../keys/runKeys.js';
import { useQuitGuard, useScreenContext, useScreenKeys } from '../keys/ScreenKeys.js';
import { useBodySize } from '../layout/bodySize.js';
import { editText } from '../widgets/TextField/TextField.js';
import { DrillReportView, DrillSetup } from './DrillSetup.js';
import { DrillRunView } from './DrillRunView.js';
import { DRILL_FIELDS, drillReducer, initialDrill, type DrillState } from './drillState.js';

export function DrillScreen(): ReactNode {
  const api = useApi();
  const { target, active, changes } = useScreenContext();
  const { width, height } = useBodySize();
  const [state, dispatch, current] = useSyncedReducer(drillReducer, initialDrill);
  const runSnap = useJobEvents(state.run?.store);
  const running = runSnap?.state === 'running';

  useEffect(() => {
    dispatch({ type: 'target', target });
  }, [target, dispatch]);

  const mounted = useMounted();

  const loadHistory = useCallback(
    async (name: string) => {
      try {
        const drills = await api.listDrills(name);
        if (mounted.current) dispatch({ type: 'history', target: name, drills });
      } catch (e) {
        if (mounted.current) dispatch({ type: 'history-failed', target: name, error: oneSentence(e) });
      }
    },
    [api, dispatch],
  );
  useEffect(() => {
    if (active && state.target !== undefined) void loadHistory(state.target);
  }, [active, state.target, loadHistory]);
  // A finished drill wrote a report: the history grows by one.
  useRunFinished(state.run?.store, runSnap?.state, () => {
    const name = current().target;
    if (name === undefined) return;
    void loadHistory(name);
    changes.notify(name);
  });

  useEffect(() => () => state.run?.store.dispose(), [state.run]);
  useQuitGuard(running ? () => dispatch({ type: 'ask' }) : undefined);

  const start = (s: DrillState) => {
    if (s.target === undefined) return;
    const to = s.to.trim() || 'latest';
    const req = { to, ...(s.rto.trim() ? { rto: s.rto.trim() } : {}), ...(s.rpo.trim() ? { rpo: s.rpo.trim() } : {}) };
    dispatch({ type: 'run-started', run: { store: new JobStore(api.startDrill(s.target, req)), target: s.target, startedAt: Date.now(), to, rto: s.rto.trim(), rpo: s.rpo.trim() } });
  };

  // How far an opened report can scroll, as last drawn.
  const reportMax = useRef(0);
  const onKey = (input: string, key: Key): boolean => {
    const s = current();
    if (s.runShown && s.run) {
      return runKeys(s.run.store as JobStore<unknown>, s.asking, input, key, {
        ask: () => dispatch({ type: 'ask' }),
        answered: () => dispatch({ type: 'answered' }),
        close: () => dispatch({ type: 'run-closed' }),
      });
    }
    if (s.target === undefined) return false;
    if (s.opened !== undefined) {
      if (key.escape || key.return || input === 'q') dispatch({ type: 'open', id: undefined });
      else if (key.downArrow || input === 'j') dispatch({ type: 'report-scroll', by: 1, max: reportMax.current });
      else if (key.upArrow || input === 'k') dispatch({ type: 'report-scroll', by: -1, max: reportMax.current });
      else if (key.pageDown || input === ' ') dispatch({ type: 'report-scroll', by: Math.max(1, height - 4), max: reportMax.current });
      else if (key.pageUp) dispatch({ type: 'report-scroll', by: -Math.max(1, height - 4), max: reportMax.current });
      else return false;
      return true;
    }
    const at = DRILL_FIELDS.indexOf(s.focus);
    if (key.tab) {
      dispatch({ type: 'focus', focus: DRILL_FIELDS[(at + (key.shift ? -1 : 1) + DRILL_FIELDS.length) % DRILL_FIELDS.length]! });
      return true;
    }
    if (s.focus === 'history') {
      const rows = s.history ?? [];
      if (key.downArrow || input === 'j') dispatch({ type: 'move', by: 1 });
      else if (key.upArrow || input === 'k') {
        if (s.selected === 0) dispatch({ type: 'focus', focus: 'rpo' });
        else dispatch({ type: 'move', by: -1 });
      } else if (key.return && rows[s.selected]) dispatch({ type: 'open', id: rows[s.selected]!.id });
      else if (input === 'd') start(s);
      else if (input === 'e') dispatch({ type: 'focus', focus: 'to' });
      else return false;
      return true;
    }
    // A text field has the keys: everything typed is text until tab, an arrow or enter.
    if (key.return) start(s);
    else if (key.downArrow) dispatch({ type: 'focus', focus: DRILL_FIELDS[at + 1]! });
    else if (key.upArrow) dispatch({ type: 'focus', focus: DRILL_FIELDS[Math.max(0, at - 1)]! });
    else if (key.escape) dispatch({ type: 'focus', focus: 'history' });
    else {
      const field = s.focus;
      const text = editText(s[field], input, key, s.replacing);
      if (text !== undefined) dispatch({ type: 'edit', field, text });
    }
    return true;
  };

  const editing = !state.runShown && state.opened === undefined && state.focus !== 'history' && state.target !== undefined;
  useScreenKeys(onKey, hintsFor(state, running), editing);

  if (state.runShown && state.run) return <DrillRunView run={state.run} asking={state.asking} width={width} height={height} />;
  if (state.target === undefined) {
    return (
      <Box width={width} height={height} overflow="hidden">
        <Text wrap="wrap">No target selected yet: pick one on Targets (1); its restore drills and their history are here.</Text>
      </Box>
    );
  }
  const opened = state.opened !== undefined ? state.history?.find((d) => d.id === state.opened) : undefined;
  if (opened) return <DrillReportView report={opened} width={width} height={height} scroll={state.reportScroll} maxRef={reportMax} />;
  return <DrillSetup state={state} width={width} height={height} />;
}

function hintsFor(state: DrillState, running: boolean): KeyHint[] {
  if (state.runShown && state.run) {
    if (running && state.asking) return [{ keys: 'y', label: 'cancel the drill' }, { keys: 'n', label: 'keep it running' }];
    if (running) return [{ keys: 'x ctrl-c', label: 'cancel' }];
    return [{ keys: 'enter esc', label: 'back to drills' }];
  }
  if (state.target === undefined) return [];
  if (state.opened !== undefined) return [{ keys: 'enter esc', label: 'back' }, { keys: '↑↓', label: 'scroll' }];
  if (state.focus === 'history') {
    return [
      { keys: 'd', label: 'drill now' },
      { keys: 'enter', label: 'open report' },
      { keys: '↑↓', label: 'move' },
      { keys: 'tab', label: 'edit to/RTO/RPO' },
    ];
  }
  return [
    { keys: 'enter', label: 'start drill' },
    { keys: 'tab ↑↓', label: 'field' },
    { keys: 'esc', label: 'history' },
    { keys: 'ctrl-c', label: 'quit' },
  ];
}
