import { Box, Text } from 'ink';
import type { MutableRefObject, ReactNode } from 'react';
import type { DrillReport } from '../../src/drill/report.js';
import { shortUtc, utc } from '../text/time.js';
import { fit, hangingLines, wrapText } from '../text/width.js';
import { DataTable, type Column } from '../widgets/DataTable/DataTable.js';
import { formatSeconds } from '../widgets/JobView/format.js';
import { MARKER_WIDTH, StatusMarker, stepMarker } from '../widgets/StatusMarker/StatusMarker.js';
import { TextField } from '../widgets/TextField/TextField.js';
import type { DrillState } from './drillState.js';
import { fittedOutcome, objectiveCell, statusWord } from './outcome.js';
import { ScrollPane } from '../widgets/ScrollPane/ScrollPane.js';

export const HISTORY_COLUMNS: readonly Column<DrillReport>[] = [
  { header: 'started', width: 12, value: (d) => shortUtc(d.startedAt) },
  { header: 'status', width: 7, value: (d) => statusWord(d), color: (d) => (d.status === 'passed' ? 'green' : d.status === 'running' ? 'cyan' : 'red') },
  { header: 'to', flex: 1, minWidth: 6, value: (d) => (d.requested === 'latest' ? 'latest' : shortUtc(d.requested)) },
  { header: 'RTO', width: 10, value: (d) => objectiveCell(d.rto?.seconds, d.rto?.ok) },
  { header: 'RPO', width: 10, value: (d) => objectiveCell(d.rpo?.seconds, d.rpo?.ok) },
  { header: 'failed step', flex: 2, minWidth: 6, value: (d) => d.failedStep ?? '' },
];

const LABEL = 4;

/** Lines the form takes: intro, three fields, the note, a blank line. */
export const FORM_HEIGHT = 6;

export function DrillSetup({ state, width, height }: { state: DrillState; width: number; height: number }): ReactNode {
  const history = state.history;
  const tableHeight = Math.max(2, height - FORM_HEIGHT - 1);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text wrap="truncate-end">
        <Text bold>{state.target}</Text>
        {' · restore into a scratch instance, verify, measure RTO/RPO, tear down'}
      </Text>
      <TextField label="to" labelWidth={LABEL} value={state.to} focused={state.focus === 'to'} replacing={state.replacing} width={width} hint="latest, -15m, or ISO time with zone" />
      <TextField label="RTO" labelWidth={LABEL} value={state.rto} focused={state.focus === 'rto'} replacing={state.replacing} width={width} hint={state.rto ? 'objective for this drill' : "blank: the target's own objective"} />
      <TextField label="RPO" labelWidth={LABEL} value={state.rpo} focused={state.focus === 'rpo'} replacing={state.replacing} width={width} hint={state.rpo ? 'objective for this drill' : "blank: the target's own objective"} />
      <Text dimColor wrap="truncate-end">
        d (or enter in a field) starts the drill; the source is never touched.
      </Text>
      <Text> </Text>
      <Text bold={state.focus === 'history'} wrap="truncate-end">
        {`History${history ? ` · ${history.length} drill${history.length === 1 ? '' : 's'}, newest first` : ''}`}
      </Text>
      {state.historyError ? (
        <Text color="red" wrap="wrap">
          <StatusMarker marker="FAIL" /> {state.historyError}
        </Text>
      ) : history === undefined ? (
        <Text dimColor>Reading the drill history…</Text>
      ) : (
        <DataTable
          columns={HISTORY_COLUMNS}
          rows={history}
          rowKey={(d) => d.id}
          selected={state.selected}
          height={Math.min(tableHeight, Math.max(2, history.length + 1))}
          width={width}
          focused={state.focus === 'history'}
          empty={`No drills of ${state.target} yet; press d to run the first.`}
        />
      )}
    </Box>
  );
}

/**
 * A stored drill report, opened from the history: its steps with times, each detail wrapped under
 * its step (never cut), then the outcome. Longer than the body, it scrolls with a line saying
 * how much is above and below.
 */
export function DrillReportView({ report, width, height, scroll = 0, maxRef }: { report: DrillReport; width: number; height: number; scroll?: number; maxRef?: MutableRefObject<number> }): ReactNode {
  const outcome = fittedOutcome(report, width - MARKER_WIDTH - 1, wrapText);
  const indent = ' '.repeat(MARKER_WIDTH + 1);
  const rows: ReactNode[] = [];
  for (const s of report.steps) {
    rows.push(
      <Text key={s.name} wrap="truncate-end" dimColor={s.status === 'skipped' || s.status === 'pending'}>
        <StatusMarker marker={stepMarker(s.status)} /> {fit(s.name, 27)} {fit(s.seconds !== undefined ? formatSeconds(s.seconds) : '', 7, 'right')}
      </Text>,
    );
    if (s.detail) {
      hangingLines(s.detail, width, MARKER_WIDTH + 3).forEach((l, i) =>
        rows.push(
          <Text key={`${s.name}-${i}`} wrap="truncate-end" dimColor>
            {`${indent}  ${l}`}
          </Text>,
        ),
      );
    }
  }
  outcome.forEach((l, i) =>
    rows.push(
      <Text key={`o${i}`} wrap="truncate-end" color={l.ok === false ? 'red' : undefined}>
        {indent}
        {l.text}
      </Text>,
    ),
  );
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end" color={report.status === 'passed' ? 'green' : 'red'}>
        {`${statusWord(report)} · drill ${report.id} of ${report.target} · ${utc(report.startedAt)} · to ${report.requested === 'latest' ? 'latest' : utc(report.requested)}`}
      </Text>
      <Text wrap="truncate-end" dimColor>
        {report.backup ? `${report.kind ?? ''} backup ${report.backup}` : 'no backup was picked'}
      </Text>
      <ScrollPane rows={rows} room={height - 2} scroll={scroll} {...(maxRef ? { maxRef } : {})} />
    </Box>
  );
}
