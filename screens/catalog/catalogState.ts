import type { CatalogEntry } from '../../src/ops/catalog.js';
import type { VerifyReport } from '../../src/ops/verify.js';
import type { RepoVerifyReport } from '../../src/ops/verify-repository.js';
import type { LogicalRestoreReport } from '../../src/engines/restore-types.js';
import type { BackupKind, Manifest } from '../../src/repo/manifest.js';
import type { BackupList } from '../api.js';
import type { JobStore } from '../hooks/jobStore.js';
import { clampIndex } from '../widgets/DataTable/fit.js';
import { matchesFilter } from '../widgets/FilterLine/FilterLine.js';
import type { Marker } from '../widgets/StatusMarker/StatusMarker.js';
import { chainOrder } from './chainTree.js';
import { filterFields } from './columns.js';

/** A job started from the catalog: a backup, a verify of one backup, or of the whole repository. */
export type CatalogRun =
  | { kind: 'backup'; target: string; backupKind: BackupKind; store: JobStore<Manifest>; startedAt: number }
  | { kind: 'verify'; target: string; backup: string; restore: boolean; store: JobStore<VerifyReport>; startedAt: number }
  | { kind: 'verify-all'; target: string; store: JobStore<RepoVerifyReport>; startedAt: number }
  | { kind: 'restore'; target: string; backup: string; dbname: string; store: JobStore<LogicalRestoreReport>; startedAt: number };

/**
 * r on a logical backup: the new database's name (the first key replaces the suggestion), then
 * the target's name typed to confirm, as the CLI's restore --dbname does without asking.
 */
export interface LogicalRestoreForm {
  backup: string;
  dbname: string;
  typed: string;
  step: 'name' | 'confirm';
  replacing: boolean;
  hint: string | undefined;
}

/** A new database's suggested name: the target's and the backup's moment ("prod_20261125_1100"). */
export function suggestedDbname(target: string, backup: string): string {
  const m = /^(\d{8})T(\d{4})/.exec(backup);
  return `${target.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${m ? `${m[1]}_${m[2]}` : 'restored'}`;
}

export type ManifestSlot = { manifest: Manifest } | { error: string };

export const KINDS: readonly BackupKind[] = ['logical', 'physical'];

export interface CatalogState {
  /** The target this state describes; a different one resets it. */
  target: string | undefined;
  /** undefined until the first list arrives. */
  list: BackupList | undefined;
  loadError: string | undefined;
  /** Index into the filtered rows. */
  selected: number;
  /** After the next load, select this backup (a backup just taken). */
  selectId: string | undefined;
  filter: string;
  filterEditing: boolean;
  focus: 'table' | 'details';
  /** First details line shown. */
  scroll: number;
  /** Manifests read so far for the details pane, by backup id. */
  manifests: Readonly<Record<string, ManifestSlot>>;
  /** Index into KINDS while the "which kind of backup" choice is open. */
  choosing: number | undefined;
  run: CatalogRun | undefined;
  runDismissed: boolean;
  /** "Cancel the backup? y/N" is showing. */
  asking: boolean;
  /** The logical restore form, while it is open. */
  restoring: LogicalRestoreForm | undefined;
  /** One line about the last key (why r did nothing, say); cleared by the next key. */
  message: { marker: Marker; text: string } | undefined;
}

export type CatalogAction =
  | { type: 'target'; target: string | undefined }
  | { type: 'loaded'; target: string; list: BackupList }
  | { type: 'load-failed'; target: string; error: string }
  | { type: 'manifest'; target: string; id: string; slot: ManifestSlot }
  | { type: 'move'; by: number }
  | { type: 'move-to'; index: number }
  | { type: 'focus'; focus: CatalogState['focus'] }
  | { type: 'scroll'; by: number; max: number }
  | { type: 'filter-open' }
  | { type: 'filter-type'; text: string }
  | { type: 'filter-erase' }
  | { type: 'filter-keep' }
  | { type: 'filter-clear' }
  | { type: 'choose-open' }
  | { type: 'choose-move'; by: number }
  | { type: 'choose-close' }
  | { type: 'run-started'; run: CatalogRun }
  | { type: 'run-dismissed' }
  | { type: 'ask' }
  | { type: 'answered' }
  | { type: 'restore-open'; backup: string; dbname: string }
  | { type: 'restore-edit'; text: string }
  | { type: 'restore-step'; step: LogicalRestoreForm['step'] }
  | { type: 'restore-hint'; text: string }
  | { type: 'restore-close' }
  | { type: 'message'; marker: Marker; text: string }
  | { type: 'clear-message' };

export const initialCatalog: CatalogState = {
  target: undefined,
  list: undefined,
  loadError: undefined,
  selected: 0,
  selectId: undefined,
  filter: '',
  filterEditing: false,
  focus: 'table',
  scroll: 0,
  manifests: {},
  choosing: undefined,
  run: undefined,
  runDismissed: false,
  asking: false,
  restoring: undefined,
  message: undefined,
};

export function visibleRows(state: CatalogState): CatalogEntry[] {
  return chainOrder(state.list?.backups ?? []).filter((e) => matchesFilter(filterFields(e), state.filter));
}

export function selectedEntry(state: CatalogState): CatalogEntry | undefined {
  return visibleRows(state)[state.selected];
}

/** Moving the selection starts the details at their top again. */
function select(state: CatalogState, index: number): CatalogState {
  const selected = clampIndex(index, visibleRows(state).length);
  return selected === state.selected ? state : { ...state, selected, scroll: 0 };
}

export function catalogReducer(state: CatalogState, action: CatalogAction): CatalogState {
  switch (action.type) {
    case 'target':
      if (action.target === state.target) return state;
      // A run keeps going (and showing) across target changes; everything else belonged to the old target.
      return { ...initialCatalog, target: action.target, run: state.run, runDismissed: state.runDismissed, asking: state.asking };
    case 'loaded': {
      if (action.target !== state.target) return state;
      // Keep the cursor on the same backup across reloads (or go to the one just taken).
      const keep = state.selectId ?? visibleRows(state)[state.selected]?.id;
      // Verification and status change on disk: read manifests again on demand.
      const next: CatalogState = { ...state, list: action.list, loadError: undefined, manifests: {}, selectId: undefined };
      const i = keep === undefined ? -1 : visibleRows(next).findIndex((e) => e.id === keep);
      return { ...next, selected: clampIndex(i >= 0 ? i : state.selected, visibleRows(next).length) };
    }
    case 'load-failed':
      return action.target === state.target ? { ...state, loadError: action.error } : state;
    case 'manifest':
      return action.target === state.target ? { ...state, manifests: { ...state.manifests, [action.id]: action.slot } } : state;
    case 'move':
      return select(state, state.selected + action.by);
    case 'move-to':
      return select(state, action.index);
    case 'focus':
      return { ...state, focus: action.focus, filterEditing: false };
    case 'scroll':
      return { ...state, scroll: Math.max(0, Math.min(action.max, state.scroll + action.by)) };
    case 'filter-open':
      return { ...state, filterEditing: true, focus: 'table' };
    case 'filter-type':
      return { ...state, filter: state.filter + action.text, selected: 0, scroll: 0 };
    case 'filter-erase':
      return { ...state, filter: [...state.filter].slice(0, -1).join(''), selected: 0, scroll: 0 };
    case 'filter-keep':
      return { ...state, filterEditing: false, filter: state.filter.trim() };
    case 'filter-clear':
      return { ...state, filterEditing: false, filter: '', selected: 0, scroll: 0 };
    case 'choose-open':
      return { ...state, choosing: 0, message: undefined };
    case 'choose-move':
      return state.choosing === undefined ? state : { ...state, choosing: (state.choosing + action.by + KINDS.length * 2) % KINDS.length };
    case 'choose-close':
      return { ...state, choosing: undefined };
    case 'run-started':
      return {
        ...state,
        run: action.run,
        runDismissed: false,
        asking: false,
        choosing: undefined,
        restoring: undefined,
        message: undefined,
      };
    case 'run-dismissed': {
      // Back on the table, a backup just taken is the selected row.
      const run = state.run;
      const result = run?.kind === 'backup' ? run.store.getSnapshot().result : undefined;
      const next: CatalogState = { ...state, runDismissed: true, asking: false };
      if (result && run?.target === state.target) {
        const i = visibleRows(next).findIndex((e) => e.id === result.id);
        if (i >= 0) return { ...next, selected: i, scroll: 0 };
        return { ...next, selectId: result.id };
      }
      return next;
    }
    case 'ask':
      return { ...state, asking: true, runDismissed: false };
    case 'answered':
      return { ...state, asking: false };
    case 'restore-open':
      return { ...state, restoring: { backup: action.backup, dbname: action.dbname, typed: '', step: 'name', replacing: true, hint: undefined }, message: undefined };
    case 'restore-edit': {
      const f = state.restoring;
      if (!f) return state;
      return { ...state, restoring: f.step === 'name' ? { ...f, dbname: action.text, replacing: false, hint: undefined } : { ...f, typed: action.text, hint: undefined } };
    }
    case 'restore-step':
      return state.restoring ? { ...state, restoring: { ...state.restoring, step: action.step, hint: undefined } } : state;
    case 'restore-hint':
      return state.restoring ? { ...state, restoring: { ...state.restoring, hint: action.text } } : state;
    case 'restore-close':
      return { ...state, restoring: undefined };
    case 'message':
      return { ...state, message: { marker: action.marker, text: action.text } };
    case 'clear-message':
      return state.message ? { ...state, message: undefined } : state;
  }
}
