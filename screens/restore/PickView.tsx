import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { describeWindow } from '../../src/pitr/window.js';
import { utc, windowTitle } from '../text/time.js';
import { fit, textWidth, truncateEnd, wrapText } from '../text/width.js';
import { visibleWindow } from '../widgets/DataTable/fit.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { TextField } from '../widgets/TextField/TextField.js';
import { restoredLineCount, RestoredServersLines, type RestoredServers } from '../widgets/RestoredServers/RestoredServers.js';
import type { RestoreState } from './restoreState.js';
import { chosenPreset, commitIndex, resolveTime } from './restoreState.js';
import { describeGaps, drawTimeline, LEGEND, markLine } from './timeline.js';

export interface PickViewProps {
  state: RestoreState;
  /** The destination shown (the typed one, or the default). */
  into: string;
  width: number;
  height: number;
  /** Servers this target's restores left running, with X to stop one. */
  servers?: RestoredServers;
}

const LABEL = 6;

/** What the time field means right now, beside it: the moment in UTC, or how to write one. */
export function timeHint(state: RestoreState): string {
  const t = resolveTime(state.time);
  // A commit stepped to: the field shows its exact time; beside it, which commit it is.
  const c = commitIndex(state);
  if (c !== undefined && state.commits) return `commit ${c + 1} of ${state.commits.moments.length}${state.commits.partial ? ` since ${utc(state.commits.from).slice(11)}` : ''}`;
  if (state.pendingCommitSteps !== 0) return 'reading the archived commits…';
  if (!t) return state.time.trim() === '' ? 'ISO with a zone, -15m or latest' : '? ISO 8601 with a zone, -15m or latest';
  if (t.kind === 'latest') return state.window?.to ? `= ${utc(state.window.to)}, newest archived commit` : '= the newest archived commit';
  if (t.kind === 'time') return `= ${utc(t.at)}`;
  return '';
}

/**
 * The window as a timeline, the presets (latest and each base backup's end) and the form: time,
 * destination, port. The refusal of the last plan, if any, sits at the bottom in one sentence.
 */
export function PickView({ state, into, width, height, servers }: PickViewProps): ReactNode {
  const w = state.window!;
  const t = resolveTime(state.time);
  const chosen = t?.kind === 'time' ? t.at : t?.kind === 'latest' && w.to ? new Date(w.to) : undefined;
  const drawing = drawTimeline(w, width, chosen);
  // A recorded disaster: D and g (the last good commit) under the bar, and a warning when the
  // chosen moment would restore the damage too.
  const inc = state.incident;
  const marks = inc && drawing ? markLine(w, width, [{ at: inc.lastGoodAt, ch: 'g' }, { at: inc.disasterAt, ch: 'D' }]) : '';
  const hms = (t: string) => utc(t).slice(11);
  const incidentLine = inc ? `D ${hms(inc.disasterAt)} ${inc.what} · g last good commit ${hms(inc.lastGoodAt)}` : '';
  const afterDisaster = inc && chosen && chosen.getTime() >= Date.parse(inc.disasterAt);
  const incidentLines = inc ? (marks ? 2 : 1) + (afterDisaster ? 1 : 0) : 0;
  const message =
    state.phase === 'planning'
      ? [`…    planning: reading the archive, checking ${into} and port ${state.port ?? '?'}`]
      : state.refusal
        ? wrapText(`FAIL ${state.refusal}`, width).slice(0, 4)
        : [];
  const serverLines = servers ? restoredLineCount(servers) : 0;
  const fixed = (drawing ? 6 : 2) + incidentLines + 1 + 1 + 3 + (message.length ? 1 + message.length : 0) + serverLines;
  const presetRoom = Math.max(1, height - fixed);
  const chosenAt = chosenPreset(state);
  const { start, end } = visibleWindow(state.presets.length, Math.max(0, chosenAt), presetRoom);
  const presetsFocused = state.focus === 'presets' && state.phase === 'pick';
  const labelWidth = Math.max(6, ...state.presets.map((p) => textWidth(p.label)));

  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {windowTitle(state.target ?? '', describeWindow(w), width)}
      </Text>
      {drawing ? (
        <>
          <Text wrap="truncate-end">{drawing.bar}</Text>
          <Text wrap="truncate-end">{drawing.caret || ' '}</Text>
          {marks ? <Text wrap="truncate-end">{marks}</Text> : null}
          <Text dimColor wrap="truncate-end">
            {drawing.ends}
          </Text>
          <Text dimColor wrap="truncate-end">
            {LEGEND}
          </Text>
        </>
      ) : (
        <Text wrap="wrap">
          {`No restorable point yet: no backup of ${state.target} can start a point-in-time restore (PostgreSQL needs a complete physical backup, MySQL/MariaDB a logical one with its binlog position). Take one on the Catalog (2, then b).`}
        </Text>
      )}
      <Text dimColor={w.gaps.length === 0} color={w.gaps.length > 0 ? 'yellow' : undefined} wrap="truncate-end">
        {describeGaps(w, drawing?.unreachable ?? false)}
      </Text>
      {inc ? <Text wrap="truncate-end">{incidentLine}</Text> : null}
      {afterDisaster ? (
        <Text color="yellow" wrap="truncate-end">
          <StatusMarker marker="WARN" /> {`after the disaster: the damage comes back too; last good ${hms(inc!.lastGoodAt)}`}
        </Text>
      ) : null}
      {servers ? <RestoredServersLines servers={servers} width={width} /> : null}
      <Text> </Text>
      {state.presets.length === 0 ? (
        <Text dimColor wrap="truncate-end">
          {'Presets  none'}
        </Text>
      ) : (
        state.presets.slice(start, end).map((p, k) => {
          const i = start + k;
          const on = i === chosenAt;
          // One › on the screen, where the keys go; the chosen preset is • while a field is edited.
          return (
            <Text key={p.label} wrap="truncate-end">
              {/* A time of one's own marks no preset: the › then stands by the label, so focus still shows. */}
              <Text bold={presetsFocused}>{fit(i === start ? (presetsFocused && chosenAt < 0 ? '› Presets' : 'Presets') : '', 9)}</Text>
              <Text inverse={on && presetsFocused}>
                {on ? (presetsFocused ? '› ' : '• ') : '  '}
                {fit(p.label, labelWidth)}
                {'  '}
                {p.at ? utc(p.at) : ''}
              </Text>
            </Text>
          );
        })
      )}
      <Text> </Text>
      <TextField label="Time" labelWidth={LABEL} value={state.time} focused={state.focus === 'time'} replacing={state.replacing} width={width} hint={timeHint(state)} />
      <TextField label="Into" labelWidth={LABEL} value={into} focused={state.focus === 'into'} replacing={state.replacing} width={width} hint={state.into === undefined ? 'new directory' : undefined} />
      <TextField label="Port" labelWidth={LABEL} value={state.port ?? '…'} focused={state.focus === 'port'} replacing={state.replacing} width={width} hint="on 127.0.0.1" />
      {message.length > 0 && <Text> </Text>}
      {message.map((line, i) =>
        state.phase === 'planning' ? (
          <Text key={i} color="cyan" wrap="truncate-end">
            {line}
          </Text>
        ) : (
          <Text key={i} color="red" wrap="truncate-end">
            {i === 0 ? (
              <>
                <StatusMarker marker="FAIL" /> {truncateEnd(line.slice(5), width - 5)}
              </>
            ) : (
              line
            )}
          </Text>
        ),
      )}
    </Box>
  );
}
