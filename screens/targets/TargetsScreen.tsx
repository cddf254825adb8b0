import { Box, Text, type Key } from 'ink';
import { useCallback, useEffect, useRef, type ReactNode } from 'react';
import { startJob, type Job } from '../../src/ops/job.js';
import type { Target } from '../../src/config/target.js';
import { useApi } from '../App/ApiContext.js';
import { JobStore, oneSentence } from '../hooks/jobStore.js';
import { useJobEvents } from '../hooks/useJobEvents.js';
import { useSyncedReducer } from '../hooks/useSyncedReducer.js';
import type { KeyHint } from '../keys/keymap.js';
import { useScreenKeys, useScreenContext } from '../keys/ScreenKeys.js';
import { useBodySize } from '../layout/bodySize.js';
import { DataTable } from '../widgets/DataTable/DataTable.js';
import { FilterLine } from '../widgets/FilterLine/FilterLine.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { TARGET_COLUMNS } from './columns.js';
import { FIRST_RUN_HEIGHT, FirstRun } from './FirstRun.js';
import { finishedRunHeight, SandboxRun } from './SandboxRun.js';
import { initialTargets, targetsReducer, visibleRows } from './targetsState.js';

export function TargetsScreen(): ReactNode {
  const api = useApi();
  const { go, select } = useScreenContext();
  const { width, height } = useBodySize();
  const [state, dispatch, current] = useSyncedReducer(targetsReducer, initialTargets);
  const snap = useJobEvents(state.run);
  const rows = visibleRows(state);
  const running = snap?.state === 'running';
  const showRun = snap !== undefined && !state.runDismissed;

  // The selected target is the one the number keys open elsewhere (2 → its catalog).
  const selectedName = rows[state.selected]?.name;
  useEffect(() => {
    if (selectedName !== undefined) select(selectedName);
  }, [selectedName, select]);

  const mounted = useRef(true);
  const load = useCallback(async () => {
    try {
      const list = await api.listTargets();
      if (mounted.current) dispatch({ type: 'loaded', rows: list });
    } catch (e) {
      if (mounted.current) dispatch({ type: 'load-failed', error: oneSentence(e) });
    }
  }, [api]);
  useEffect(() => {
    mounted.current = true;
    void load();
    return () => {
      mounted.current = false;
    };
  }, [load]);

  // A finished sandbox run may have added a target, and a failed one may have half-added it.
  const runState = snap?.state;
  useEffect(() => {
    if (runState && runState !== 'running') void load();
  }, [runState, load]);

  // Leaving the console (or replacing a run) must not leave a job running unseen.
  useEffect(() => () => state.run?.dispose(), [state.run]);

  const startSandbox = () => {
    let job: Job<Target>;
    try {
      job = api.startSandbox();
    } catch (e) {
      // A job that cannot even start still reports through the same panel.
      job = startJob<Target>(() => Promise.reject(e));
    }
    dispatch({ type: 'run-started', run: new JobStore(job) });
  };

  const filterShown = state.filterEditing || state.filter !== '';
  const runHeight = showRun && !running ? Math.min(Math.floor(height / 2), finishedRunHeight(snap)) : 0;
  const tableHeight = Math.max(2, height - (filterShown ? 1 : 0) - (runHeight ? runHeight + 1 : 0));

  // Decides on current(), not on `state`: see useSyncedReducer for why.
  const onKey = (input: string, key: Key): boolean => {
    const state = current();
    const snap = state.run?.getSnapshot();
    const running = snap?.state === 'running';
    const showRun = snap !== undefined && !state.runDismissed;
    const rows = visibleRows(state);
    if (state.filterEditing) {
      if (key.escape) dispatch({ type: 'filter-clear' });
      else if (key.return) dispatch({ type: 'filter-keep' });
      else if (key.backspace || key.delete) dispatch({ type: 'filter-erase' });
      else if (key.upArrow) dispatch({ type: 'move', by: -1 });
      else if (key.downArrow) dispatch({ type: 'move', by: 1 });
      else if (!key.ctrl && !key.meta && !key.tab) {
        const text = input.replace(/[\u0000-\u001f\u007f]/g, '');
        if (text) dispatch({ type: 'filter-type', text });
      }
      // Everything typed belongs to the filter, "q" and digits included.
      return true;
    }
    if (running) {
      if (input === 'x') {
        state.run?.job.cancel('cancelled from the console');
        return true;
      }
      return false;
    }
    if (state.loadError !== undefined) {
      if (key.return) void load();
      return key.return;
    }
    if (state.rows === undefined) return false;
    if (state.rows.length === 0) {
      if (key.return) {
        startSandbox();
        return true;
      }
      if (key.escape && showRun) {
        dispatch({ type: 'run-dismissed' });
        return true;
      }
      return false;
    }
    if (key.downArrow || input === 'j') dispatch({ type: 'move', by: 1 });
    else if (key.upArrow || input === 'k') dispatch({ type: 'move', by: -1 });
    else if (key.pageDown) dispatch({ type: 'move', by: Math.max(1, tableHeight - 2) });
    else if (key.pageUp) dispatch({ type: 'move', by: -Math.max(1, tableHeight - 2) });
    else if (key.home || input === 'g') dispatch({ type: 'move-to', index: 0 });
    else if (key.end || input === 'G') dispatch({ type: 'move-to', index: rows.length - 1 });
    else if (input === '/') dispatch({ type: 'filter-open' });
    else if (key.return) {
      const row = rows[state.selected];
      if (row) go('catalog', row.name);
    } else if (key.escape && state.filter !== '') dispatch({ type: 'filter-clear' });
    else if (key.escape && showRun) dispatch({ type: 'run-dismissed' });
    else return false;
    return true;
  };

  useScreenKeys(onKey, hintsFor(), state.filterEditing);

  function hintsFor(): KeyHint[] {
    if (state.filterEditing) {
      return [
        { keys: 'enter', label: 'keep filter' },
        { keys: 'esc', label: 'clear filter' },
        { keys: '↑↓', label: 'move' },
        { keys: 'ctrl-c', label: 'quit' },
      ];
    }
    if (running) return [{ keys: 'x', label: 'cancel' }];
    if (state.loadError !== undefined) return [{ keys: 'enter', label: 'try again' }];
    if (state.rows === undefined) return [];
    const hideRun: KeyHint[] = showRun && !running ? [{ keys: 'esc', label: 'hide run' }] : [];
    if (state.rows.length === 0) {
      return [{ keys: 'enter', label: snap?.state === 'failed' ? 'try again' : 'start sandbox' }, ...hideRun];
    }
    return [
      { keys: '↑↓ jk', label: 'move' },
      { keys: 'enter', label: 'catalog' },
      { keys: '/', label: 'filter' },
      ...(state.filter !== '' ? [{ keys: 'esc', label: 'clear' }] : hideRun),
    ];
  }

  if (running) {
    return <SandboxRun snapshot={snap} width={width} height={height} />;
  }
  if (state.loadError !== undefined) {
    return (
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        <Text color="red" wrap="wrap">
          <StatusMarker marker="FAIL" /> {state.loadError}
        </Text>
        <Text dimColor>Press enter to try again.</Text>
      </Box>
    );
  }
  if (state.rows === undefined) {
    return <Text dimColor>Loading targets…</Text>;
  }
  if (state.rows.length === 0) {
    return (
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        <FirstRun width={width} retry={snap?.state === 'failed'} />
        {showRun && <SandboxRun snapshot={snap} width={width} height={Math.max(0, height - FIRST_RUN_HEIGHT)} />}
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {filterShown && <FilterLine text={state.filter} editing={state.filterEditing} width={width} matches={rows.length} />}
      <DataTable
        columns={TARGET_COLUMNS}
        rows={rows}
        rowKey={(r) => r.name}
        selected={state.selected}
        height={Math.min(tableHeight, Math.max(2, rows.length + 1))}
        width={width}
        empty={`No target matches "${state.filter}"; esc clears the filter.`}
      />
      {runHeight > 0 && snap && (
        <Box flexDirection="column" marginTop={1}>
          <SandboxRun snapshot={snap} width={width} height={runHeight} />
        </Box>
      )}
    </Box>
  );
}
