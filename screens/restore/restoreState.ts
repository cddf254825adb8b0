import type { Key } from 'ink';
import type { CommitMoments } from '../../src/engines/contract.js';
import type { PitrReport } from '../../src/ops/pitr.js';
import { microsOf } from '../../src/pitr/micros.js';
import { parseRestoreTarget, type RestoreTarget } from '../../src/pitr/time.js';
import type { KeyHint } from '../keys/keymap.js';
import type { RecoverableWindow } from '../../src/pitr/window.js';
import type { Handoff } from '../App/shellState.js';
import type { JobStore } from '../hooks/jobStore.js';
import { stamp } from '../text/time.js';
import { clampIndex } from '../widgets/DataTable/fit.js';

/** A moment offered with the arrows: the newest archived commit, or a base backup's end. */
export interface Preset {
  label: string;
  /** What goes into the time field. */
  to: string;
  /** The base backup to start from, for a backup's end. */
  backup?: string;
  /** The moment, shown beside the label. */
  at?: string;
}

/** Known events on the target's timeline (a training disaster and the last good commit before it). */
export interface Incident {
  disasterAt: string;
  lastGoodAt: string;
  what: string;
}

export type Field = 'presets' | 'time' | 'into' | 'port';
export const FIELDS: readonly Field[] = ['presets', 'time', 'into', 'port'];

export interface RestoreRun {
  store: JobStore<PitrReport>;
  target: string;
  startedAt: number;
  /** The moment, as the plan resolved it (UTC), or "latest". */
  to: string;
}

export interface RestoreState {
  target: string | undefined;
  window: RecoverableWindow | undefined;
  windowError: string | undefined;
  presets: Preset[];
  /**
   * The moment chosen, and the one source of truth for it: the time field's text and the backup a
   * preset pinned (typing a time of one's own unpins it). Which preset is marked, where the ^
   * stands and what enter plans are all derived from these two.
   */
  time: string;
  pinned: string | undefined;
  /** The focused text field still shows its old value whole: the first key typed replaces it. */
  replacing: boolean;
  /** undefined: the default destination (a new directory under the temp dir). */
  into: string | undefined;
  /** undefined until a free port is known. */
  port: string | undefined;
  focus: Field;
  /** A hand-off (Catalog's r) waiting for the window to arrive. */
  pending: Handoff | undefined;
  handledSeq: number;
  phase: 'pick' | 'planning' | 'plan' | 'run';
  planStore: JobStore<PitrReport> | undefined;
  plan: PitrReport | undefined;
  /** Why the last plan was refused, in one sentence. */
  refusal: string | undefined;
  /** The target's name as typed to confirm. */
  typed: string;
  /**
   * MySQL/MariaDB: all or none of the transactions stamped the target's second, once the operator
   * chose (undefined: not asked, or not chosen yet).
   */
  second: 'inclusive' | 'exclusive' | undefined;
  confirmHint: string | undefined;
  run: RestoreRun | undefined;
  asking: boolean;
  /** A recorded disaster on this target, marked on the timeline and warned of in the picker. */
  incident: Incident | undefined;
  /** The commit moments of the window shown (its from/to is `key`), once the engine has read them. */
  commits: (CommitMoments & { key: string }) | undefined;
  /** Why they could not be read, in one sentence. */
  commitsError: string | undefined;
  /** Commit steps typed before the commits arrived (net, signed): applied when they do, none lost. */
  pendingCommitSteps: number;
}

/** Which window a list of commits belongs to: a window that grew is asked about again. */
export function commitsKey(w: RecoverableWindow | undefined): string | undefined {
  return w?.from && w.to ? `${w.from}|${w.to}` : undefined;
}

export type RestoreAction =
  | { type: 'target'; target: string | undefined }
  | { type: 'window'; target: string; window: RecoverableWindow }
  | { type: 'window-failed'; target: string; error: string }
  | { type: 'port'; port: number }
  | { type: 'handoff'; handoff: Handoff; running: boolean }
  | { type: 'preset'; by: number }
  | { type: 'nudge'; minutes: number; now?: Date }
  | { type: 'focus'; focus: Field }
  | { type: 'edit'; field: 'time' | 'into' | 'port'; text: string }
  | { type: 'invalid'; error: string }
  | { type: 'plan-started'; store: JobStore<PitrReport>; second?: 'inclusive' | 'exclusive' }
  | { type: 'plan-ready'; report: PitrReport }
  | { type: 'plan-refused'; error: string }
  | { type: 'type-name'; text: string }
  | { type: 'confirm-hint'; text: string }
  | { type: 'back-to-pick' }
  | { type: 'run-started'; run: RestoreRun }
  | { type: 'ask' }
  | { type: 'answered' }
  | { type: 'incident'; target: string; incident: Incident | undefined }
  | { type: 'commits'; target: string; key: string; commits: CommitMoments }
  | { type: 'commits-failed'; target: string; key: string; error: string }
  | { type: 'commit'; by: 1 | -1 };

export const initialRestore: RestoreState = {
  target: undefined,
  window: undefined,
  windowError: undefined,
  presets: [],
  time: 'latest',
  pinned: undefined,
  replacing: false,
  into: undefined,
  port: undefined,
  focus: 'presets',
  pending: undefined,
  handledSeq: 0,
  phase: 'pick',
  planStore: undefined,
  plan: undefined,
  refusal: undefined,
  typed: '',
  second: undefined,
  confirmHint: undefined,
  run: undefined,
  asking: false,
  incident: undefined,
  commits: undefined,
  commitsError: undefined,
  pendingCommitSteps: 0,
};

/**
 * The picker's keys while the presets have them: the handler, the footer and the help overlay all
 * read this table. Each steps the chosen moment, whose time the Time field then shows.
 */
export interface PickKey {
  keys: string;
  /** For the help overlay. */
  help: string;
  /** For the footer. */
  footer: string;
  matches: (input: string, key: Partial<Key>) => boolean;
  action: (input: string, key: Partial<Key>) => RestoreAction;
}

export const PICK_KEYS: readonly PickKey[] = [
  {
    keys: '↑↓',
    help: 'backup end',
    footer: 'backup end',
    matches: (i, k) => k.upArrow === true || k.downArrow === true || i === 'k' || i === 'j' || i === ']' || i === '[',
    // Presets run newest first: up (and ]) is later.
    action: (i, k) => ({ type: 'preset', by: k.upArrow === true || i === 'k' || i === ']' ? -1 : 1 }),
  },
  { keys: ', .', help: 'commit', footer: 'commit', matches: (i) => i === ',' || i === '.', action: (i) => ({ type: 'commit', by: i === '.' ? 1 : -1 }) },
  {
    keys: '←→',
    help: 'minute',
    footer: '1 min',
    matches: (i, k) => k.leftArrow === true || k.rightArrow === true || i === 'h' || i === 'l',
    action: (i, k) => ({ type: 'nudge', minutes: k.leftArrow === true || i === 'h' ? -1 : 1 }),
  },
];

/** The footer's hints for the picker's steps, from the table. */
export function pickHints(): KeyHint[] {
  return PICK_KEYS.map((k) => ({ keys: k.keys, label: k.footer }));
}

/** The help overlay's line for Restore, from the table. */
export function restoreHelp(): KeyHint {
  // The keys column lists them in the table's order; the label names what each steps by, in that order.
  return { keys: PICK_KEYS.map((k) => k.keys.replace(' ', '')).join(' '), label: `Restore: step the chosen moment by ${PICK_KEYS.map((k) => k.help).join(', ')}` };
}

/** A time field's moment in microseconds (latest: the window's end), or undefined. */
function chosenMicros(state: RestoreState, now?: Date): number | undefined {
  const t = resolveTime(state.time, now);
  if (t?.kind === 'time') return microsOf(t.at, t.usec);
  if (t?.kind === 'latest' && state.window?.to) return momentMicros(state.window.to);
  return undefined;
}

/** "2026-11-25T18:03:38.217919Z" in microseconds. */
export function momentMicros(iso: string): number {
  const t = resolveTime(iso);
  return t?.kind === 'time' ? microsOf(t.at, t.usec) : Number.NaN;
}

/** Where the chosen moment stands among the commits: its index when it is one, else undefined. */
export function commitIndex(state: Pick<RestoreState, 'commits' | 'time'>): number | undefined {
  const i = state.commits?.moments.indexOf(state.time.trim()) ?? -1;
  return i >= 0 ? i : undefined;
}

/** Moves the chosen moment to the next commit after it (or the last before it). */
function stepCommit(state: RestoreState, by: 1 | -1): RestoreState {
  if (state.commitsError) return { ...state, refusal: state.commitsError };
  const list = state.commits?.moments;
  if (!list) return { ...state, pendingCommitSteps: state.pendingCommitSteps + by };
  const at = chosenMicros(state);
  const micros = list.map(momentMicros);
  let i: number;
  if (at === undefined) i = by > 0 ? 0 : list.length - 1;
  else if (by > 0) i = micros.findIndex((m) => m > at);
  else i = micros.findLastIndex((m) => m < at);
  if (i < 0 || i >= list.length) return state;
  return { ...state, time: list[i]!, pinned: undefined, refusal: undefined };
}

/** "latest", then each base backup's end, newest first. */
export function presetsOf(w: RecoverableWindow): Preset[] {
  if (!w.to) return [];
  const ends = [...w.ranges]
    .sort((a, b) => b.from.localeCompare(a.from))
    // The exact moment, milliseconds included: cut to the second it would fall before the
    // backup became consistent, and the plan would refuse it.
    .map((r) => ({ label: `end of ${r.backup}`, to: new Date(r.from).toISOString(), backup: r.backup, at: r.from }));
  return [{ label: 'latest', to: 'latest', at: w.to }, ...ends];
}

/** The preset the chosen moment is, or -1 when the time is one of the operator's own. */
export function chosenPreset(state: Pick<RestoreState, 'presets' | 'time' | 'pinned'>): number {
  const time = state.time.trim();
  return state.presets.findIndex((p) => p.to === time && p.backup === state.pinned);
}

function applyPreset(state: RestoreState, index: number): RestoreState {
  const p = state.presets[clampIndex(index, state.presets.length)];
  if (!p) return state;
  return { ...state, time: p.to, pinned: p.backup, refusal: undefined };
}

/** Moves the chosen moment to the next preset up or down; from a typed time, to the nearest one that way. */
function stepPreset(state: RestoreState, by: number): RestoreState {
  const at = chosenPreset(state);
  if (at >= 0) return applyPreset(state, at + by);
  const t = resolveTime(state.time);
  const ms = t?.kind === 'time' ? t.at.getTime() : undefined;
  if (ms === undefined) return applyPreset(state, 0);
  // Presets run newest first: down is earlier, up is later.
  const times = state.presets.map((p) => Date.parse(p.at ?? '') || Number.POSITIVE_INFINITY);
  const i = by > 0 ? times.findIndex((x) => x < ms) : times.map((x, k) => [x, k] as const).filter(([x]) => x > ms).map(([, k]) => k).at(-1) ?? -1;
  return i < 0 ? state : applyPreset(state, i);
}

/** A fresh picker with `h`'s backup chosen: nothing typed, planned or run before carries over. */
function applyHandoff(state: RestoreState, h: Handoff): RestoreState {
  const next: RestoreState = {
    ...state,
    pending: undefined,
    handledSeq: h.seq,
    focus: 'presets',
    phase: 'pick',
    time: 'latest',
    pinned: undefined,
    into: undefined,
    replacing: false,
    refusal: undefined,
    plan: undefined,
    planStore: undefined,
    typed: '',
    confirmHint: undefined,
  };
  const i = state.presets.findIndex((p) => p.backup === h.backup);
  if (i < 0) {
    return { ...next, refusal: `Backup ${h.backup} does not start any part of the recoverable window, so a point-in-time restore cannot start from it; pick a preset instead.` };
  }
  return applyPreset(next, i);
}

/** What the time field resolves to, or undefined when it does not parse (the plan says why). */
export function resolveTime(text: string, now = new Date()): RestoreTarget | undefined {
  try {
    return parseRestoreTarget({ to: text.trim() }, now);
  } catch {
    return undefined;
  }
}

/** A new directory under the temp dir, named after the target and the moment restored to. */
export function defaultInto(tempDir: string, target: string, time: string, w: RecoverableWindow | undefined, now = new Date()): string {
  const t = resolveTime(time, now);
  const at = t?.kind === 'time' ? t.at : t?.kind === 'latest' && w?.to ? new Date(w.to) : now;
  const sep = tempDir.endsWith('/') ? '' : '/';
  return `${tempDir}${sep}dbdrill-${target}-${stamp(at)}`;
}

export function restoreReducer(state: RestoreState, action: RestoreAction): RestoreState {
  switch (action.type) {
    case 'target':
      if (action.target === state.target) return state;
      // A running restore keeps going (and showing) when another target is selected.
      return { ...initialRestore, target: action.target, port: state.port, run: state.run, phase: state.run ? 'run' : 'pick', handledSeq: state.handledSeq, pending: state.pending };
    case 'window': {
      if (action.target !== state.target) return state;
      const presets = presetsOf(action.window);
      // What the operator chose stays chosen across re-reads (it is the time and the pin, not an index).
      const same = state.commits?.key === commitsKey(action.window);
      const keep: RestoreState = { ...state, window: action.window, windowError: undefined, presets, ...(same ? {} : { commits: undefined, commitsError: undefined }) };
      return state.pending ? applyHandoff(keep, state.pending) : keep;
    }
    case 'window-failed':
      return action.target === state.target ? { ...state, windowError: action.error } : state;
    case 'port':
      return state.port === undefined ? { ...state, port: String(action.port) } : state;
    case 'handoff':
      if (action.handoff.seq <= state.handledSeq) return state;
      // A restore still running keeps the screen; the picker opens when it is closed.
      if (state.phase === 'run' && action.running) return { ...state, pending: action.handoff };
      // A finished restore's closing lines are history now (its server may be long gone): a fresh
      // picker, with a fresh port, applied when the window (re-read: the backup may be new) arrives.
      if (state.phase === 'run') return { ...state, phase: 'pick', run: undefined, port: undefined, pending: action.handoff, asking: false };
      return { ...state, pending: action.handoff };
    case 'preset':
      return stepPreset(state, action.by);
    case 'nudge': {
      // Step the chosen moment by whole minutes, from where it stands now (latest: the window's end).
      const t = resolveTime(state.time, action.now);
      const from = t?.kind === 'time' ? t.at.getTime() : t?.kind === 'latest' && state.window?.to ? Date.parse(state.window.to) : undefined;
      if (from === undefined || Number.isNaN(from)) return state;
      const at = new Date(from + action.minutes * 60_000).toISOString().replace('.000Z', 'Z');
      return { ...state, time: at, pinned: undefined, refusal: undefined };
    }
    case 'focus':
      return { ...state, focus: action.focus, replacing: action.focus !== 'presets' };
    case 'edit':
      if (action.field === 'time') return { ...state, time: action.text, pinned: undefined, refusal: undefined, replacing: false };
      if (action.field === 'into') return { ...state, into: action.text, refusal: undefined, replacing: false };
      return { ...state, port: action.text.replace(/\D/g, ''), refusal: undefined, replacing: false };
    case 'invalid':
      return { ...state, refusal: action.error };
    case 'plan-started':
      return { ...state, phase: 'planning', planStore: action.store, plan: undefined, refusal: undefined, second: action.second };
    case 'plan-ready':
      return state.phase === 'planning' ? { ...state, phase: 'plan', plan: action.report, typed: '', confirmHint: undefined } : state;
    case 'plan-refused':
      return state.phase === 'planning' ? { ...state, phase: 'pick', refusal: action.error } : state;
    case 'type-name':
      return { ...state, typed: action.text, confirmHint: undefined };
    case 'confirm-hint':
      return { ...state, confirmHint: action.text };
    case 'back-to-pick':
      // After a restore the port it used is taken: ask for a fresh one.
      return {
        ...state,
        phase: 'pick',
        plan: undefined,
        planStore: undefined,
        typed: '',
        second: undefined,
        confirmHint: undefined,
        asking: false,
        // Back from a finished restore, the keys go to the presets again (number keys work).
        ...(state.run ? { run: undefined, port: undefined, into: undefined, focus: 'presets' as Field } : {}),
      };
    case 'run-started':
      return { ...state, phase: 'run', run: action.run, asking: false };
    case 'incident':
      return action.target === state.target ? { ...state, incident: action.incident } : state;
    case 'commits': {
      if (action.target !== state.target || action.key !== commitsKey(state.window)) return state;
      let next: RestoreState = { ...state, commits: { ...action.commits, key: action.key }, commitsError: undefined, pendingCommitSteps: 0 };
      for (let i = 0; i < Math.abs(state.pendingCommitSteps); i++) next = stepCommit(next, state.pendingCommitSteps > 0 ? 1 : -1);
      return next;
    }
    case 'commits-failed':
      if (action.target !== state.target || action.key !== commitsKey(state.window)) return state;
      return { ...state, commitsError: action.error, pendingCommitSteps: 0, ...(state.pendingCommitSteps !== 0 ? { refusal: action.error } : {}) };
    case 'commit':
      return stepCommit(state, action.by);
    case 'ask':
      return { ...state, asking: true };
    case 'answered':
      return { ...state, asking: false };
  }
}
