import { Box, Text, type Key } from 'ink';
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { estimateRestore, type RestoreEstimate } from '../../src/drill/estimate.js';
import type { PitrReport } from '../../src/ops/pitr.js';
import type { RestoreRequest } from '../api.js';
import { useApi } from '../App/ApiContext.js';
import { JobStore, oneSentence } from '../hooks/jobStore.js';
import { useJobEvents } from '../hooks/useJobEvents.js';
import { useMounted } from '../hooks/useMounted.js';
import { useSyncedReducer } from '../hooks/useSyncedReducer.js';
import type { KeyHint } from '../keys/keymap.js';
import { runKeys } from '../keys/runKeys.js';
import { useQuitGuard, useScreenContext, useScreenKeys } from '../keys/ScreenKeys.js';
import { useBodySize } from '../layout/bodySize.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { editText } from '../widgets/TextField/TextField.js';
import { STOP_KEY, useRestoredServers } from '../widgets/RestoredServers/RestoredServers.js';
import { PickView } from './PickView.js';
import { PlanView, secondListed } from './PlanView.js';
import { RestoreRun } from './RestoreRun.js';
import { commitsKey, defaultInto, FIELDS, initialRestore, PICK_KEYS, pickHints, restoreReducer, type RestoreState } from './restoreState.js';

export function RestoreScreen(): ReactNode {
  const api = useApi();
  const { target, active, handoff } = useScreenContext();
  const { width, height } = useBodySize();
  const [state, dispatch, current] = useSyncedReducer(restoreReducer, initialRestore);
  const planSnap = useJobEvents(state.planStore);
  const runSnap = useJobEvents(state.run?.store);
  const running = runSnap?.state === 'running';

  useEffect(() => {
    dispatch({ type: 'target', target });
  }, [target, dispatch]);
  useEffect(() => {
    if (handoff) dispatch({ type: 'handoff', handoff, running: current().run?.store.getSnapshot().state === 'running' });
  }, [handoff, dispatch, current]);

  const mounted = useMounted();

  const loadWindow = useCallback(
    async (name: string) => {
      try {
        // A training session on this target marks its disaster on the timeline (none: nothing).
        api.readTraining(name).then(
          (t) => mounted.current && dispatch({ type: 'incident', target: name, incident: t && !t.score ? { disasterAt: t.disasterAt, lastGoodAt: t.lastGoodAt, what: t.what } : undefined }),
          () => undefined,
        );
        const window = await api.readWindow(name);
        if (mounted.current) dispatch({ type: 'window', target: name, window });
      } catch (e) {
        if (mounted.current) dispatch({ type: 'window-failed', target: name, error: oneSentence(e) });
      }
    },
    [api, dispatch],
  );
  // Re-read whenever the screen is shown: WAL keeps arriving, so the window's end moves.
  useEffect(() => {
    if (active && state.target !== undefined && state.phase === 'pick') void loadWindow(state.target);
  }, [active, state.target, state.phase === 'pick', handoff?.seq, loadWindow]);

  // The window's commit moments, read by the engine off the render path (and kept per window by
  // the API): the keys that step by commits use them once they are here.
  const windowKey = commitsKey(state.window);
  const haveCommits = state.commits?.key === windowKey;
  useEffect(() => {
    const name = state.target;
    const w = state.window;
    if (!active || name === undefined || windowKey === undefined || !w?.from || !w.to || haveCommits) return;
    api.readCommitMoments(name, { from: w.from, to: w.to }).then(
      (commits) => mounted.current && dispatch({ type: 'commits', target: name, key: windowKey, commits }),
      (e: unknown) => mounted.current && dispatch({ type: 'commits-failed', target: name, key: windowKey, error: oneSentence(e) }),
    );
  }, [api, active, state.target, windowKey, haveCommits, dispatch]);

  // A free port for the restored server, asked once (and again after a restore used it).
  const needPort = state.port === undefined;
  useEffect(() => {
    if (!active || !needPort) return;
    api.freePort().then(
      (port) => mounted.current && dispatch({ type: 'port', port }),
      () => undefined,
    );
  }, [api, active, needPort, dispatch]);

  // The dry run's outcome: its plan, or the sentence that refuses it.
  const planState = planSnap?.state;
  useEffect(() => {
    const snap = state.planStore?.getSnapshot();
    if (!snap || snap.state === 'running') return;
    if (snap.state === 'done' && snap.result) dispatch({ type: 'plan-ready', report: snap.result });
    else dispatch({ type: 'plan-refused', error: snap.error ?? 'The plan failed without saying why.' });
  }, [planState, state.planStore, dispatch]);

  useEffect(() => () => state.planStore?.dispose(), [state.planStore]);

  // How long the planned restore should take, from what this target's drills measured.
  const [estimate, setEstimate] = useState<RestoreEstimate | undefined>(undefined);
  const planned = state.phase === 'plan' ? state.plan : undefined;
  useEffect(() => {
    setEstimate(undefined);
    if (!planned || state.target === undefined) return;
    let live = true;
    api.listDrills(state.target).then(
      (drills) => live && mounted.current && setEstimate(estimateRestore(drills, planned.plan.estimatedBytes)),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [api, planned, state.target]);
  useEffect(() => () => state.run?.store.dispose(), [state.run]);

  useQuitGuard(running ? () => dispatch({ type: 'ask' }) : undefined);
  // The servers this target's restores left running: re-read when a restore ends or the picker shows.
  const servers = useRestoredServers(api, state.target, active, `${state.phase}:${runSnap?.state ?? ''}`);

  const intoOf = (s: RestoreState) => s.into ?? (s.target ? defaultInto(api.tempDir, s.target, s.time, s.window) : '');
  const into = intoOf(state);

  const plan = (s: RestoreState, second?: 'inclusive' | 'exclusive') => {
    if (s.target === undefined || !s.window) return;
    const port = Number(s.port);
    if (!s.port || !Number.isInteger(port) || port < 1 || port > 65535) {
      dispatch({ type: 'invalid', error: `Port "${s.port ?? ''}" is not a TCP port; give a whole number from 1 to 65535.` });
      return;
    }
    if (s.time.trim() === '') {
      dispatch({ type: 'invalid', error: 'Give a time: ISO 8601 with a zone (2026-11-24T14:30:00Z), a relative time (-15m), or latest.' });
      return;
    }
    const req: RestoreRequest = { to: s.time.trim(), into: intoOf(s), port, ...(s.pinned ? { backup: s.pinned } : {}), ...(second ? { second } : {}) };
    dispatch({ type: 'plan-started', store: new JobStore(api.planRestore(s.target, req)), ...(second ? { second } : {}) });
  };

  const start = (s: RestoreState) => {
    const report = s.plan;
    if (!report || s.target === undefined) return;
    // Run exactly what the plan showed: the moment it resolved ("-15m" is not re-read), its backup.
    const t = report.plan.target;
    const to = t.kind === 'time' ? t.at.toISOString() : s.time.trim();
    const req: RestoreRequest = { to, backup: report.plan.backup, into: report.dataDir, port: report.port, ...(s.second ? { second: s.second } : {}) };
    dispatch({ type: 'run-started', run: { store: new JobStore(api.startRestore(s.target, req)), target: s.target, startedAt: Date.now(), to } });
  };

  // Decides on current(), not on `state`: see useSyncedReducer for why.
  const onKey = (input: string, key: Key): boolean => {
    const s = current();
    // X (and its y/N) on the picker's presets: a text field or the confirmation takes X as text.
    if ((servers.asking || input === STOP_KEY) && s.phase === 'pick' && s.focus === 'presets' && servers.onKey(input)) return true;
    if (s.phase === 'run' && s.run) {
      return runKeys(s.run.store as JobStore<unknown>, s.asking, input, key, {
        ask: () => dispatch({ type: 'ask' }),
        answered: () => dispatch({ type: 'answered' }),
        close: () => dispatch({ type: 'back-to-pick' }),
      });
    }
    if (s.phase === 'plan') {
      // Everything typed goes to the confirmation, "q" and digits included.
      const listed = secondToChoose(s.plan);
      if (key.escape) dispatch({ type: 'back-to-pick' });
      else if (listed && (key.leftArrow || key.rightArrow)) plan(s, key.leftArrow ? 'exclusive' : 'inclusive');
      else if (key.return) {
        if (listed && s.second === undefined) {
          dispatch({ type: 'confirm-hint', text: `Choose first: ← none of the ${listed} transactions of that second, → all of them.` });
        } else if (s.typed === s.target) start(s);
        else dispatch({ type: 'confirm-hint', text: `Type the target's name exactly ("${s.target}") to start, or esc to go back.` });
      } else {
        const text = editText(s.typed, input, key);
        if (text !== undefined) dispatch({ type: 'type-name', text });
      }
      return true;
    }
    if (s.phase === 'planning') return !(key.escape || input === 'q');
    if (s.target === undefined) return false;
    if (s.windowError !== undefined || !s.window) {
      if (key.return) {
        void loadWindow(s.target);
        return true;
      }
      return false;
    }

    const at = FIELDS.indexOf(s.focus);
    const next = (by: number) => dispatch({ type: 'focus', focus: FIELDS[(at + by + FIELDS.length) % FIELDS.length]! });
    if (key.tab) {
      next(key.shift ? -1 : 1);
      return true;
    }
    if (key.return) {
      plan(s);
      return true;
    }
    if (s.focus === 'presets') {
      const step = PICK_KEYS.find((k) => k.matches(input, key));
      if (step) dispatch(step.action(input, key));
      else if (input === 't' || input === 'e') dispatch({ type: 'focus', focus: 'time' });
      else return false;
      return true;
    }
    // A text field has the keys: everything typed is text until esc, tab or enter.
    if (key.escape) dispatch({ type: 'focus', focus: 'presets' });
    else if (key.upArrow) next(-1);
    else if (key.downArrow) next(at === FIELDS.length - 1 ? 0 : 1);
    else {
      const field = s.focus;
      const value = field === 'time' ? s.time : field === 'into' ? intoOf(s) : (s.port ?? '');
      const text = editText(value, input, key, s.replacing);
      if (text !== undefined) dispatch({ type: 'edit', field, text });
    }
    return true;
  };

  const editing = state.phase === 'plan' || (state.phase === 'pick' && state.focus !== 'presets' && state.window !== undefined);
  // Reading the window (or about to apply a hand-off): keys typed meanwhile wait for it.
  const busy =
    state.phase === 'pick' &&
    ((target !== undefined && target !== state.target) || (state.target !== undefined && state.windowError === undefined && (!state.window || state.pending !== undefined)));
  useScreenKeys(onKey, hintsFor(state, running, servers.running.length > 0), editing, busy);

  if (state.phase === 'run' && state.run) {
    return <RestoreRun run={state.run} asking={state.asking} width={width} height={height} />;
  }
  if (target !== state.target && target !== undefined) return <Text dimColor>{`Reading the recoverable window of ${target}…`}</Text>;
  if (state.target === undefined) {
    return (
      <Box width={width} height={height} overflow="hidden">
        <Text wrap="wrap">No target selected yet: pick one on Targets (1); its recoverable window and restores are here.</Text>
      </Box>
    );
  }
  if (state.phase === 'plan' && state.plan) {
    return <PlanView target={state.target} report={state.plan as PitrReport} typed={state.time} confirm={state.typed} hint={state.confirmHint} second={state.second} {...(estimate ? { estimate } : {})} width={width} height={height} />;
  }
  if (state.windowError !== undefined) {
    return (
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        <Text color="red" wrap="wrap">
          <StatusMarker marker="FAIL" /> {state.windowError}
        </Text>
        <Text dimColor>Press enter to try again.</Text>
      </Box>
    );
  }
  if (!state.window) return <Text dimColor>{`Reading the recoverable window of ${state.target}…`}</Text>;
  return <PickView state={state} into={into} width={width} height={height} servers={servers} />;
}

/** How many transactions the plan's target second holds, when the operator chooses all or none. */
function secondToChoose(report: PitrReport | undefined): number | undefined {
  const listed = secondListed(report);
  return listed ? listed.transactions.length + (listed.more ?? 0) : undefined;
}

function hintsFor(state: RestoreState, running: boolean, serversUp: boolean): KeyHint[] {
  if (state.phase === 'run') {
    if (running && state.asking) return [{ keys: 'y', label: 'cancel the restore' }, { keys: 'n', label: 'keep it running' }];
    if (running) return [{ keys: 'x ctrl-c', label: 'cancel' }];
    return [{ keys: 'enter esc', label: 'back to the picker' }];
  }
  if (state.phase === 'plan') {
    return [
      ...(secondToChoose(state.plan) ? [{ keys: '← →', label: 'none / all of that second' }] : []),
      { keys: 'enter', label: 'start (name typed)' },
      { keys: 'esc', label: 'back to the form' },
      { keys: 'ctrl-c', label: 'quit' },
    ];
  }
  if (state.phase === 'planning') return [];
  if (state.target === undefined) return [];
  if (state.windowError !== undefined) return [{ keys: 'enter', label: 'try again' }];
  if (!state.window) return [];
  if (state.focus === 'presets') {
    // Stopping a server left running goes before the steps: the footer drops hints from the end.
    return [
      { keys: 'enter', label: 'plan' },
      ...(serversUp ? [{ keys: STOP_KEY, label: 'stop server' }] : []),
      ...pickHints(),
      { keys: 'tab', label: 'fields' },
    ];
  }
  return [
    { keys: 'enter', label: 'plan' },
    { keys: 'tab ↑↓', label: 'field' },
    { keys: 'esc', label: 'presets' },
    ...(state.replacing ? [{ keys: 'type', label: 'to replace' }] : []),
    { keys: 'ctrl-c', label: 'quit' },
  ];
}
