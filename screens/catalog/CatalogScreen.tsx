import { Box, Text, type Key } from 'ink';
import { useCallback, useEffect, useMemo, type ReactNode } from 'react';
import type { CatalogEntry } from '../../src/ops/catalog.js';
import type { BackupKind } from '../../src/repo/manifest.js';
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
import { truncateStart, wrapText } from '../text/width.js';
import { DataTable } from '../widgets/DataTable/DataTable.js';
import { FilterLine } from '../widgets/FilterLine/FilterLine.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { BackupRun, runNoun } from './BackupRun.js';
import { catalogReducer, initialCatalog, KINDS, selectedEntry, suggestedDbname, visibleRows, type CatalogRun, type CatalogState, type ManifestSlot } from './catalogState.js';
import { LogicalRestoreFormView, RESTORE_FORM_HEIGHT } from './LogicalRestoreForm.js';
import { editText } from '../widgets/TextField/TextField.js';
import { backupColumns } from './columns.js';
import { DetailsPane, maxScroll } from './DetailsPane.js';
import { detailLines } from './details.js';
import { KIND_CHOICE_HEIGHT, KindChoice } from './KindChoice.js';

/** On a logical backup that also starts a point-in-time restore: the picker instead of a new database. */
export const RESTORE_TO_TIME = 'R';

/** Lines the details pane keeps under the table while the table has the keys. */
const PREVIEW_HEIGHT = 6;

export function CatalogScreen(): ReactNode {
  const api = useApi();
  const { target, active, go, changes } = useScreenContext();
  const { width, height } = useBodySize();
  const [state, dispatch, current] = useSyncedReducer(catalogReducer, initialCatalog);
  const runSnap = useJobEvents<unknown>(state.run?.store);
  const running = runSnap?.state === 'running';
  const showRun = state.run !== undefined && !state.runDismissed;
  const rows = visibleRows(state);
  const entry = selectedEntry(state);

  useEffect(() => {
    dispatch({ type: 'target', target });
  }, [target, dispatch]);

  const mounted = useMounted();

  const load = useCallback(
    async (name: string) => {
      try {
        const list = await api.listBackups(name);
        if (mounted.current) dispatch({ type: 'loaded', target: name, list });
      } catch (e) {
        if (mounted.current) dispatch({ type: 'load-failed', target: name, error: oneSentence(e) });
      }
    },
    [api, dispatch],
  );

  // Read the catalog whenever the screen is shown: another process (cron) may have added a backup.
  useEffect(() => {
    if (active && state.target !== undefined) void load(state.target);
  }, [active, state.target, load]);

  // A finished run changed the repository (a new backup, a new verification).
  const runTarget = state.run?.target;
  useRunFinished(state.run?.store, runSnap?.state, () => {
    if (runTarget === undefined) return;
    if (runTarget === current().target) void load(runTarget);
    // Targets (its newest backup, its window) hears of it too.
    changes.notify(runTarget);
  });

  // Leaving the console must not leave a job running unseen.
  useEffect(() => () => state.run?.store.dispose(), [state.run]);

  // The manifest of the selected backup, for the details pane.
  const selectedId = entry?.id;
  const haveManifest = selectedId !== undefined && state.manifests[selectedId] !== undefined;
  useEffect(() => {
    const name = state.target;
    if (name === undefined || selectedId === undefined || haveManifest) return;
    api.readManifest(name, selectedId).then(
      (manifest) => mounted.current && dispatch({ type: 'manifest', target: name, id: selectedId, slot: { manifest } }),
      (e: unknown) => mounted.current && dispatch({ type: 'manifest', target: name, id: selectedId, slot: { error: oneSentence(e) } }),
    );
  }, [api, state.target, selectedId, haveManifest, dispatch]);

  // Quitting with a backup running asks first (ctrl-c anywhere, q on Targets).
  useQuitGuard(running ? () => dispatch({ type: 'ask' }) : undefined);

  const slot = selectedId !== undefined ? state.manifests[selectedId] : undefined;
  const lines = useMemo(() => (slot && 'manifest' in slot ? detailLines(slot.manifest, entry, width) : undefined), [slot, entry, width]);

  // Layout: title, optional warning and filter lines, the table, then the details pane (a preview
  // while the table has the keys, most of the body while the details do), or the kind choice.
  const unreadable = state.list?.unreadable ?? [];
  const filterShown = state.filterEditing || state.filter !== '';
  const top = 1 + (unreadable.length > 0 ? 1 : 0) + (filterShown ? 1 : 0);
  const messageLines = state.message ? wrapText(`${state.message.marker.padEnd(4)} ${state.message.text}`, width).slice(0, 3) : [];
  const messageHeight = messageLines.length;
  const bottom = state.restoring ? RESTORE_FORM_HEIGHT : state.choosing !== undefined ? KIND_CHOICE_HEIGHT : state.focus === 'details' ? Math.max(3, height - top - messageHeight - 2) : PREVIEW_HEIGHT;
  const tableRoom = Math.max(2, height - top - bottom - messageHeight);
  const tableHeight = state.focus === 'details' ? 2 : Math.min(tableRoom, Math.max(2, rows.length + 1));
  const detailsHeight = Math.max(0, height - top - tableHeight - messageHeight - (state.choosing !== undefined ? KIND_CHOICE_HEIGHT : 0) - (state.restoring ? RESTORE_FORM_HEIGHT : 0));
  const scrollMax = lines ? maxScroll(lines.length, detailsHeight) : 0;

  const startRun = (build: (name: string) => CatalogRun) => {
    const name = current().target;
    if (name === undefined) return;
    dispatch({ type: 'run-started', run: build(name) });
  };
  const startBackup = (kind: BackupKind) =>
    startRun((name) => ({ kind: 'backup', target: name, backupKind: kind, store: new JobStore(api.startBackup(name, kind)), startedAt: Date.now() }));
  const startVerifyAll = () => startRun((name) => ({ kind: 'verify-all', target: name, store: new JobStore(api.startVerifyRepository(name)), startedAt: Date.now() }));
  const startVerify = (id: string, restore: boolean) =>
    startRun((name) => ({ kind: 'verify', target: name, backup: id, restore, store: new JobStore(api.startVerify(name, id, restore)), startedAt: Date.now() }));

  // Decides on current(), not on `state`: see useSyncedReducer for why.
  const onKey = (input: string, key: Key): boolean => {
    const s = current();
    const showRun = s.run !== undefined && !s.runDismissed;

    // A finished run's view gives way to any table key (r, v, j…), which then acts: nothing typed is lost.
    if (showRun && s.run && s.run.store.getSnapshot().state !== 'running' && !key.return && !key.escape && input !== 'x' && !/^[1-7?q]$/.test(input)) {
      dispatch({ type: 'run-dismissed' });
      return onKey(input, key);
    }
    if (showRun && s.run) {
      return runKeys(s.run.store, s.asking, input, key, {
        ask: () => dispatch({ type: 'ask' }),
        answered: () => dispatch({ type: 'answered' }),
        close: () => dispatch({ type: 'run-dismissed' }),
      });
    }

    if (s.restoring) {
      // Everything typed belongs to the form, "q" and digits included.
      const f = s.restoring;
      if (key.escape) dispatch({ type: 'restore-close' });
      else if (key.tab || key.upArrow || key.downArrow) dispatch({ type: 'restore-step', step: f.step === 'name' ? 'confirm' : 'name' });
      else if (key.return) {
        if (f.step === 'name') {
          if (f.dbname.trim() === '') dispatch({ type: 'restore-hint', text: 'Give the new database a name.' });
          else dispatch({ type: 'restore-step', step: 'confirm' });
        } else if (f.typed !== s.target) dispatch({ type: 'restore-hint', text: `Type the target's name exactly ("${s.target ?? ''}") to start, or esc to cancel.` });
        else {
          const dbname = f.dbname.trim();
          startRun((name) => ({ kind: 'restore', target: name, backup: f.backup, dbname, store: new JobStore(api.startLogicalRestore(name, { backup: f.backup, dbname })), startedAt: Date.now() }));
        }
      } else {
        const text = editText(f.step === 'name' ? f.dbname : f.typed, input, key, f.step === 'name' && f.replacing);
        if (text !== undefined) dispatch({ type: 'restore-edit', text });
      }
      return true;
    }

    if (s.choosing !== undefined) {
      if (key.leftArrow || key.upArrow || input === 'h' || input === 'k') dispatch({ type: 'choose-move', by: -1 });
      else if (key.rightArrow || key.downArrow || key.tab || input === 'l' || input === 'j') dispatch({ type: 'choose-move', by: 1 });
      else if (key.return) startBackup(KINDS[s.choosing] ?? 'logical');
      else if (key.escape || input === 'q') dispatch({ type: 'choose-close' });
      else return false;
      return true;
    }

    if (s.filterEditing) {
      if (key.escape) dispatch({ type: 'filter-clear' });
      else if (key.return) dispatch({ type: 'filter-keep' });
      else if (key.backspace || key.delete) dispatch({ type: 'filter-erase' });
      else if (key.upArrow) dispatch({ type: 'move', by: -1 });
      else if (key.downArrow) dispatch({ type: 'move', by: 1 });
      else if (!key.ctrl && !key.meta && !key.tab) {
        // eslint-disable-next-line no-control-regex
        const text = input.replace(/[\u0000-\u001f\u007f]/g, '');
        if (text) dispatch({ type: 'filter-type', text });
      }
      // Everything typed belongs to the filter, "q" and digits included.
      return true;
    }

    if (s.message) dispatch({ type: 'clear-message' });
    if (s.target === undefined) return false;
    if (s.loadError !== undefined && key.return) {
      void load(s.target);
      return true;
    }

    const e = selectedEntry(s);
    if (input === 'b') {
      dispatch({ type: 'choose-open' });
      return true;
    }
    if (input === 'a') {
      startVerifyAll();
      return true;
    }
    if ((input === 'v' || input === 'V') && e) {
      if (e.status !== 'complete') dispatch({ type: 'message', marker: 'FAIL', text: `Backup ${e.id} is ${e.status}; only complete backups can be verified.` });
      else startVerify(e.id, input === 'V');
      return true;
    }
    if ((input === 'r' || input === RESTORE_TO_TIME) && e) {
      if (e.status !== 'complete') {
        dispatch({ type: 'message', marker: 'FAIL', text: `Backup ${e.id} is ${e.status}; only complete backups are offered for restore.` });
      } else if (input === 'r' && e.kind === 'logical') {
        // A dump restores into a new database, whatever the engine (its contract's logicalRestore).
        dispatch({ type: 'restore-open', backup: e.id, dbname: suggestedDbname(s.target, e.id) });
      } else if (input === 'r' || e.pitr) {
        // A physical backup: the picker, which says itself when the backup starts no part of the window.
        go('restore', s.target, e.id);
      } else dispatch({ type: 'message', marker: 'FAIL', text: `Backup ${e.id} starts no point-in-time restore; r restores it into a new database.` });
      return true;
    }
    if (key.tab) {
      dispatch({ type: 'focus', focus: s.focus === 'table' ? 'details' : 'table' });
      return true;
    }

    if (s.focus === 'details') {
      const page = Math.max(1, detailsHeight - 2);
      if (key.downArrow || input === 'j') dispatch({ type: 'scroll', by: 1, max: scrollMax });
      else if (key.upArrow || input === 'k') dispatch({ type: 'scroll', by: -1, max: scrollMax });
      else if (key.pageDown || input === ' ') dispatch({ type: 'scroll', by: page, max: scrollMax });
      else if (key.pageUp) dispatch({ type: 'scroll', by: -page, max: scrollMax });
      else if (key.home || input === 'g') dispatch({ type: 'scroll', by: -Infinity, max: scrollMax });
      else if (key.end || input === 'G') dispatch({ type: 'scroll', by: Infinity, max: scrollMax });
      else if (key.escape) dispatch({ type: 'focus', focus: 'table' });
      else return false;
      return true;
    }

    const count = visibleRows(s).length;
    if (key.downArrow || input === 'j') dispatch({ type: 'move', by: 1 });
    else if (key.upArrow || input === 'k') dispatch({ type: 'move', by: -1 });
    else if (key.pageDown) dispatch({ type: 'move', by: Math.max(1, tableHeight - 2) });
    else if (key.pageUp) dispatch({ type: 'move', by: -Math.max(1, tableHeight - 2) });
    else if (key.home || input === 'g') dispatch({ type: 'move-to', index: 0 });
    else if (key.end || input === 'G') dispatch({ type: 'move-to', index: count - 1 });
    else if (input === '/') dispatch({ type: 'filter-open' });
    else if (key.return && e) dispatch({ type: 'focus', focus: 'details' });
    else if (key.escape && s.filter !== '') dispatch({ type: 'filter-clear' });
    else return false;
    return true;
  };

  // The list of a target not read yet: keys typed meanwhile (j, r, v…) wait for it.
  // (A target handed over but not taken up yet counts as not read.)
  const busy = !showRun && ((target !== undefined && target !== state.target) || (state.target !== undefined && state.list === undefined && state.loadError === undefined));
  useScreenKeys(onKey, hintsFor(state, running, showRun, entry), state.filterEditing || state.restoring !== undefined, busy);

  if (showRun && state.run) {
    return <BackupRun run={state.run} asking={state.asking} width={width} height={height} />;
  }
  // The selected target changed and this render has not caught up yet.
  if (target !== state.target && target !== undefined) return <Text dimColor>{`Reading the catalog of ${target}…`}</Text>;
  if (state.target === undefined) {
    return (
      <Box width={width} height={height} overflow="hidden">
        <Text wrap="wrap">No target selected yet: pick one on Targets (1) and press enter to see its backups here.</Text>
      </Box>
    );
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
  if (state.list === undefined) return <Text dimColor>{`Reading the catalog of ${state.target}…`}</Text>;

  const list = state.list;
  const title = `${list.target} · ${list.backups.length} backup${list.backups.length === 1 ? '' : 's'}, newest first · times UTC · repo `;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text wrap="truncate-end">
        <Text bold>{title}</Text>
        <Text dimColor>{truncateStart(list.repo, Math.max(4, width - title.length))}</Text>
      </Text>
      {unreadable.length > 0 && (
        <Text color="yellow" wrap="truncate-end">
          <StatusMarker marker="WARN" />
          {` ${unreadable.length} manifest${unreadable.length === 1 ? '' : 's'} unreadable: ${unreadable.map((u) => `${u.id} (${u.error})`).join(', ')}`}
        </Text>
      )}
      {filterShown && <FilterLine text={state.filter} editing={state.filterEditing} width={width} matches={rows.length} />}
      <DataTable
        columns={backupColumns(state.list?.backups ?? [])}
        rows={state.focus === 'details' && entry ? [entry] : rows}
        rowKey={(r) => r.id}
        selected={state.focus === 'details' ? 0 : state.selected}
        height={tableHeight}
        width={width}
        focused={state.focus === 'table'}
        empty={
          list.backups.length === 0 ? `No backups of ${list.target} yet; press b to take one.` : `No backup matches "${state.filter}"; esc clears the filter.`
        }
      />
      {state.restoring ? (
        <LogicalRestoreFormView form={state.restoring} target={list.target} width={width} />
      ) : state.choosing !== undefined ? (
        <KindChoice target={list.target} selected={state.choosing} width={width} />
      ) : (
        entry && (
          <DetailsPane
            lines={lines}
            placeholder={slot && 'error' in slot ? `The manifest cannot be read: ${slot.error}` : `Reading the manifest of ${entry.id}…`}
            scroll={state.scroll}
            focused={state.focus === 'details'}
            width={width}
            height={detailsHeight}
          />
        )
      )}
      {state.message && (
        <Box height={messageHeight} width={width} overflow="hidden">
          <Text wrap="wrap" color={state.message.marker === 'FAIL' ? 'red' : 'yellow'}>
            <StatusMarker marker={state.message.marker} /> {state.message.text}
          </Text>
        </Box>
      )}
    </Box>
  );
}

function hintsFor(state: CatalogState, running: boolean, showRun: boolean, entry: CatalogEntry | undefined): KeyHint[] {
  const hasEntry = entry !== undefined;
  if (showRun && state.run) {
    if (running && state.asking) return [{ keys: 'y', label: `cancel the ${runNoun(state.run)}` }, { keys: 'n', label: 'keep it running' }];
    if (running) return [{ keys: 'x ctrl-c', label: 'cancel' }];
    return [{ keys: 'enter esc', label: 'back to the catalog' }];
  }
  if (state.restoring) {
    return [
      { keys: 'enter', label: state.restoring.step === 'name' ? 'next' : 'start (name typed)' },
      { keys: 'esc', label: 'cancel' },
      { keys: 'tab', label: 'field' },
      { keys: 'ctrl-c', label: 'quit' },
    ];
  }
  if (state.choosing !== undefined) {
    return [
      { keys: '←→', label: 'choose' },
      { keys: 'enter', label: 'start' },
      { keys: 'esc', label: 'cancel' },
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
  if (state.target === undefined) return [];
  if (state.loadError !== undefined) return [{ keys: 'enter', label: 'try again' }];
  if (state.list === undefined) return [];
  const actions: KeyHint[] = hasEntry
    ? [
        { keys: 'b', label: 'backup' },
        { keys: 'v/V', label: 'verify' },
        { keys: 'r', label: 'restore' },
        // A dump that also starts a point-in-time restore (MariaDB's, with its binlog position).
        ...(entry.kind === 'logical' && entry.pitr ? [{ keys: RESTORE_TO_TIME, label: 'to a time' }] : []),
      ]
    : [{ keys: 'b', label: 'backup' }];
  if (state.focus === 'details') return [{ keys: '↑↓', label: 'scroll' }, { keys: 'tab', label: 'table' }, ...actions];
  // Most useful first: the footer drops whole hints from the end when they do not fit.
  return [...actions, ...(hasEntry ? [{ keys: 'tab', label: 'details' }] : []), { keys: '↑↓', label: 'move' }, { keys: '/', label: 'filter' }, { keys: 'a', label: 'verify all' }];
}
