import { Box, Text, type Key } from 'ink';
import { useCallback, useEffect, useRef, useSyncExternalStore, type ReactNode } from 'react';
import { formatDuration } from '../../src/config/duration.js';
import { startJob, type Job } from '../../src/ops/job.js';
import type { Target } from '../../src/config/target.js';
import { useApi } from '../App/ApiContext.js';
import { JobStore, oneSentence } from '../hooks/jobStore.js';
import { useRunFinished } from '../hooks/useRunFinished.js';
import { useJobEvents } from '../hooks/useJobEvents.js';
import { useMounted } from '../hooks/useMounted.js';
import { useNow } from '../hooks/useNow.js';
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
import { ageTickMs, initialTargets, targetsReducer, visibleRows, type TargetsState } from './targetsState.js';
import { fieldIndex, FORM_FIELDS, formError, formFor } from './formState.js';
import { TargetFormView } from './TargetFormView.js';
import { TestPanel, testLines } from './TestPanel.js';
import { editText, TextField } from '../widgets/TextField/TextField.js';
import { wrapText } from '../text/width.js';
import { consoleWords } from '../text/consoleWords.js';

/** How often the list is re-read while shown (backups taken outside the console). */
const RELOAD_MS = 15_000;
/** The probes start this long after the table is listed, so its frame is drawn first. */
const SUMMARY_DELAY_MS = 30;

export function TargetsScreen(): ReactNode {
  const api = useApi();
  const { go, select, active, changes } = useScreenContext();
  const { width, height } = useBodySize();
  const [state, dispatch, current] = useSyncedReducer(targetsReducer, initialTargets);
  const snap = useJobEvents(state.run);
  const testSnap = useJobEvents(state.test?.store);
  // Ages tick while the screen is shown: "3m" must not stay "3m" for an hour (at the pace the
  // shown ages change: see ageTickMs).
  const tick = ageTickMs(state.rows ?? [], Date.now());
  const now = useNow(active && tick !== undefined, tick ?? 1000);
  const rows = visibleRows(state).map((r) => {
    const sum = state.summaries[r.name];
    const at = r.newestBackupAt ? Date.parse(r.newestBackupAt) : NaN;
    const age = Number.isNaN(at) ? {} : { newestBackupAge: formatDuration(Math.max(0, now - at) / 1000) };
    return { ...r, ...age, ...(sum ? { archiver: sum.archiver, ...(sum.window !== undefined ? { window: sum.window } : {}) } : {}) };
  });
  const running = snap?.state === 'running';
  const showRun = snap !== undefined && !state.runDismissed;

  // The selected target is the one the number keys open elsewhere (2 → its catalog).
  const selectedName = rows[state.selected]?.name;
  useEffect(() => {
    if (selectedName !== undefined) select(selectedName);
  }, [selectedName, select]);

  const mounted = useMounted();
  const load = useCallback(
    async (selectName?: string) => {
      try {
        const list = await api.listTargets();
        if (mounted.current) dispatch({ type: 'loaded', rows: list, ...(selectName !== undefined ? { select: selectName } : {}) });
      } catch (e) {
        if (mounted.current) dispatch({ type: 'load-failed', error: oneSentence(e) });
      }
    },
    [api],
  );
  // Read when shown, and again every RELOAD_MS while shown: a backup taken by cron or `tick`
  // lands in the repository without this console hearing of it.
  useEffect(() => {
    if (!active) return;
    void load();
    const timer = setInterval(() => void load(), RELOAD_MS);
    return () => clearInterval(timer);
  }, [load, active]);

  const summarize = useCallback(
    async (name: string) => {
      try {
        const summary = await api.targetSummary(name);
        if (mounted.current) dispatch({ type: 'summary', name, summary });
      } catch {
        if (mounted.current) dispatch({ type: 'summary', name, summary: { archiver: '?' } });
      }
    },
    [api, dispatch],
  );

  // A backup, verify, drill or disaster ended on another screen: that row is re-read at once.
  const changed = useSyncExternalStore(changes.subscribe, changes.version);
  useEffect(() => {
    const name = changes.last();
    if (changed === 0 || name === undefined) return;
    void load();
    void summarize(name);
  }, [changed, changes, load, summarize]);

  // A row whose newest backup moved (seen by a reload) has a new window too: ask again.
  const seenNewest = useRef(new Map<string, string | undefined>());
  useEffect(() => {
    for (const r of state.rows ?? []) {
      const before = seenNewest.current.get(r.name);
      if (seenNewest.current.has(r.name) && before !== r.newestBackupAt && state.summaries[r.name]) void summarize(r.name);
      seenNewest.current.set(r.name, r.newestBackupAt);
    }
  }, [state.rows, state.summaries, summarize]);

  // Archiver status and window need the server and the archive: asked per target, in the
  // background, so the table shows at once and fills in. All at once, not one after another: a
  // host that never answers holds its own row for the API's timeout (then "no answer") and no
  // other row behind it; waiting on it costs a socket, not CPU (the API bounds what does).
  const names = (state.rows ?? []).map((r) => r.name).join('\u0000');
  useEffect(() => {
    if (!active || names === '') return;
    let live = true;
    // After the table's frame is out: starting a fleet's probes costs the event loop a while.
    const timer = setTimeout(() => {
      for (const name of names.split('\u0000')) {
        api.targetSummary(name).then(
          (summary) => live && mounted.current && dispatch({ type: 'summary', name, summary }),
          () => live && mounted.current && dispatch({ type: 'summary', name, summary: { archiver: '?' } }),
        );
      }
    }, SUMMARY_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, active, names, dispatch]);

  // A finished sandbox run may have added a target, and a failed one may have half-added it.
  useRunFinished(state.run, snap?.state, () => void load());

  // Leaving the console (or replacing a run) must not leave a job running unseen.
  useEffect(() => () => state.run?.dispose(), [state.run]);
  useEffect(() => () => state.test?.store.dispose(), [state.test]);

  const save = async (st: TargetsState) => {
    const form = st.form;
    if (!form || form.saving) return;
    dispatch({ type: 'form-saving' });
    try {
      const t = await api.saveTarget(form.values, form.original);
      if (!mounted.current) return;
      dispatch({ type: 'form-close' });
      dispatch({ type: 'message', marker: 'OK', text: form.mode === 'add' ? `Added target ${t.name}; press t to test its connection.` : `Saved target ${t.name}.` });
      // The new (or renamed) target is the selected one, so t tests the target the message names.
      await load(t.name);
    } catch (e) {
      const field = (e as { detail?: { field?: string } }).detail?.field;
      if (mounted.current) dispatch({ type: 'form-error', error: formError(oneSentence(e)), ...(fieldIndex(field) !== undefined ? { focus: fieldIndex(field)! } : {}) });
    }
  };

  const remove = async (name: string) => {
    try {
      const t = await api.removeTarget(name);
      if (!mounted.current) return;
      dispatch({ type: 'remove-close' });
      // What was shown about it (a connection test, the sandbox start that made it) is no longer true.
      const st = current();
      if (st.test?.name === t.name) dispatch({ type: 'test-dismissed' });
      const run = st.run?.getSnapshot();
      if (run && run.state !== 'running' && (run.result?.name === t.name || run.state !== 'done')) dispatch({ type: 'run-dismissed' });
      dispatch({ type: 'message', marker: 'OK', text: `Removed target ${t.name}; its repository ${t.repo} was left untouched.` });
      await load();
    } catch (e) {
      if (mounted.current) {
        dispatch({ type: 'remove-close' });
        dispatch({ type: 'message', marker: 'FAIL', text: oneSentence(e) });
      }
    }
  };

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
  const testHeight = testSnap ? Math.min(Math.floor(height / 2), testLines(testSnap)) : 0;
  const messageLines = state.message ? wrapText(`${state.message.marker}  ${state.message.text}`, width).slice(0, 2) : [];
  const reasonLine = 1;
  const removeHeight = state.removing ? 3 : 0;
  const below = (runHeight ? runHeight + 1 : 0) + (testHeight ? testHeight + 1 : 0) + messageLines.length + removeHeight + reasonLine;
  const tableHeight = Math.max(2, height - (filterShown ? 1 : 0) - below);

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
    if (state.form) {
      const form = state.form;
      if (form.saving) return true;
      if (key.escape) dispatch({ type: 'form-close' });
      else if (key.return) void save(state);
      else if (key.tab) dispatch({ type: 'form-focus', by: key.shift ? -1 : 1 });
      else if (key.downArrow) dispatch({ type: 'form-focus', by: 1 });
      else if (key.upArrow) dispatch({ type: 'form-focus', by: -1 });
      else {
        const field = FORM_FIELDS[form.focus]!.field;
        if (field === 'engine' && (key.leftArrow || key.rightArrow || input === ' ')) {
          dispatch({ type: 'form-edit', field, text: form.values.engine === 'postgres' ? 'mysql' : 'postgres' });
        } else {
          const text = editText(form.values[field], input, key);
          if (text !== undefined) dispatch({ type: 'form-edit', field, text });
        }
      }
      // Everything typed belongs to the form, digits and "q" included.
      return true;
    }
    if (state.removing) {
      const r = state.removing;
      if (key.escape) dispatch({ type: 'remove-close' });
      else if (key.return) {
        if (r.typed === r.name) void remove(r.name);
        else dispatch({ type: 'remove-hint', text: `Type the target's name exactly ("${r.name}") to remove it, or esc to keep it.` });
      } else {
        const text = editText(r.typed, input, key);
        if (text !== undefined) dispatch({ type: 'remove-type', text });
      }
      return true;
    }
    if (state.message) dispatch({ type: 'clear-message' });
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
    if (input === 'a') {
      dispatch({ type: 'form-open', form: formFor(undefined) });
      return true;
    }
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
    } else if (input === 'e' && rows[state.selected]) dispatch({ type: 'form-open', form: formFor(state.rows.find((r) => r.name === rows[state.selected]!.name)) });
    else if (input === 'd' && rows[state.selected]) dispatch({ type: 'remove-ask', name: rows[state.selected]!.name });
    else if (input === 't' && rows[state.selected]) {
      const name = rows[state.selected]!.name;
      dispatch({ type: 'test-started', name, store: new JobStore(api.testTarget(name)) });
    } else if (key.escape && state.test) dispatch({ type: 'test-dismissed' });
    else if (key.escape && state.filter !== '') dispatch({ type: 'filter-clear' });
    else if (key.escape && showRun) dispatch({ type: 'run-dismissed' });
    else return false;
    return true;
  };

  useScreenKeys(onKey, hintsFor(), state.filterEditing || state.form !== undefined || state.removing !== undefined);

  function hintsFor(): KeyHint[] {
    if (state.form) {
      return [
        { keys: 'enter', label: 'save' },
        { keys: 'tab ↑↓', label: 'field' },
        { keys: 'esc', label: 'cancel' },
        { keys: 'ctrl-c', label: 'quit' },
      ];
    }
    if (state.removing) {
      return [
        { keys: 'enter', label: 'remove (name typed)' },
        { keys: 'esc', label: 'keep it' },
        { keys: 'ctrl-c', label: 'quit' },
      ];
    }
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
      return [{ keys: 'enter', label: snap?.state === 'failed' ? 'try again' : 'start sandbox' }, { keys: 'a', label: 'add target' }, ...hideRun];
    }
    return [
      { keys: 'enter', label: 'catalog' },
      { keys: 'a/e/d', label: 'add/edit/remove' },
      { keys: 't', label: 'test' },
      { keys: '/', label: 'filter' },
      ...(state.filter !== '' ? [{ keys: 'esc', label: 'clear' }] : state.test ? [{ keys: 'esc', label: 'hide test' }] : hideRun),
      { keys: '↑↓', label: 'move' },
    ];
  }

  if (state.form) return <TargetFormView form={state.form} width={width} height={height} />;
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
      {selectedReason(rows[state.selected]?.name) && (
        <Text dimColor wrap="truncate-end">
          {`  ${rows[state.selected]!.name}: ${selectedReason(rows[state.selected]?.name)}`}
        </Text>
      )}
      {rows[state.selected]?.copies321 && (
        // Wrapped, not cut: the end says whether one copy is off-site.
        <Text dimColor wrap="wrap">
          {`  ${rows[state.selected]!.copies321!}`}
        </Text>
      )}
      {runHeight > 0 && snap && (
        <Box flexDirection="column" marginTop={1}>
          <SandboxRun snapshot={snap} width={width} height={runHeight} />
        </Box>
      )}
      {testHeight > 0 && testSnap && state.test && (
        <Box flexDirection="column" marginTop={1}>
          <TestPanel name={state.test.name} snap={testSnap} width={width} height={testHeight} />
        </Box>
      )}
      {state.removing && (
        <Box flexDirection="column" height={3} width={width} overflow="hidden">
          <Text color="yellow" wrap="truncate-end">{`Remove target ${state.removing.name}? Its repository and backups stay on disk.`}</Text>
          <TextField label="type its name" labelWidth={13} value={state.removing.typed} focused width={width} />
          {state.removing.hint ? <Text color="red" wrap="truncate-end">{state.removing.hint}</Text> : <Text dimColor>enter removes · esc keeps it</Text>}
        </Box>
      )}
      {state.message && (
        <Box height={messageLines.length} width={width} overflow="hidden">
          <Text wrap="wrap" color={state.message.marker === 'FAIL' ? 'red' : 'green'}>
            <StatusMarker marker={state.message.marker} /> {state.message.text}
          </Text>
        </Box>
      )}
    </Box>
  );

  function selectedReason(name: string | undefined): string | undefined {
    if (name === undefined) return undefined;
    const sum = state.summaries[name];
    if (!sum) return 'checking the archiver…';
    return sum.reason === undefined ? undefined : consoleWords(sum.reason);
  }
}
