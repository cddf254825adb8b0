import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { DrillReport } from '../../src/drill/report.js';
import { formatDuration } from '../../src/config/duration.js';
import type { JobSnapshot, StepRow } from '../hooks/jobStore.js';
import { useElapsed } from '../hooks/useElapsed.js';
import { useJobEvents } from '../hooks/useJobEvents.js';
import { utc } from '../text/time.js';
import { fit, truncateEnd, wrapText } from '../text/width.js';
import { formatSeconds } from '../widgets/JobView/format.js';
import { LogLines, ProgressLines, progressHeight } from '../widgets/JobView/parts.js';
import { MARKER_WIDTH, StatusMarker, stepMarker } from '../widgets/StatusMarker/StatusMarker.js';
import type { DrillRun } from './drillState.js';
import { fittedOutcome, statusWord } from './outcome.js';

const STEP_NAME = 27;
const STEP_TIME = 7;

function stepTime(s: StepRow, now: number): string {
  if (s.startedAt === undefined) return '';
  const end = s.endedAt ?? (s.status === 'running' ? now : undefined);
  return end === undefined ? '' : formatSeconds((end - s.startedAt) / 1000);
}

/**
 * A drill as it runs: every step of the pipeline (pending, running, done, failed, with its time),
 * the restore/replay progress, the RTO clock against the objective, the newest tool lines; then
 * the verdict with RTO/RPO and every check.
 */
export function DrillRunView({ run, asking, width, height }: { run: DrillRun; asking: boolean; width: number; height: number }): ReactNode {
  const snap: JobSnapshot<DrillReport> = useJobEvents(run.store);
  const running = snap.state === 'running';
  const clock = useElapsed(run.startedAt, running);
  const now = run.startedAt + clock * 1000;
  const report = snap.result;
  const objective = run.rto ? ` of ${run.rto}` : '';
  const title = `Drill of ${run.target} to ${run.to === 'latest' ? 'latest' : utc(run.to)} · RTO clock ${formatDuration(report?.rto?.seconds ?? clock)}${objective}`;

  const p = snap.progress;
  const indent = ' '.repeat(MARKER_WIDTH + 1);
  const question = asking && running ? 1 : 0;
  const steps = snap.steps;
  const result = report ? fittedOutcome(report, width - MARKER_WIDTH - 1, wrapText) : [];
  const failedLines = snap.state === 'failed' ? wrapText(`FAIL ${snap.error ?? ''}`, width).slice(0, 3) : [];
  const verdictLine = report ? 1 : 0;
  const fixed = 1 + steps.length + progressHeight(p, width) + question + verdictLine + failedLines.length;
  const room = Math.max(0, height - fixed);
  const shownResult = result.slice(0, room);
  const logRoom = report ? 0 : Math.max(0, room);
  const log = logRoom > 0 ? snap.log.slice(-logRoom) : [];

  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {title}
      </Text>
      {steps.map((s) => (
        <Text key={s.name} wrap="truncate-end" dimColor={s.status === 'pending'}>
          <StatusMarker marker={stepMarker(s.status)} /> {fit(s.name, STEP_NAME)} {fit(stepTime(s, now), STEP_TIME, 'right')}
          {s.detail ? `  ${truncateEnd(s.detail, Math.max(0, width - MARKER_WIDTH - STEP_NAME - STEP_TIME - 4))}` : ''}
        </Text>
      ))}
      <ProgressLines progress={p} width={width} />
      <LogLines lines={log} />
      {report && (
        <Text bold wrap="truncate-end" color={report.status === 'passed' ? 'green' : 'red'}>
          <StatusMarker marker={report.status === 'passed' ? 'OK' : 'FAIL'} /> {`${statusWord(report)} · drill ${report.id}${report.backup ? ` from ${report.backup}` : ''}`}
        </Text>
      )}
      {shownResult.map((l, i) => (
        <Text key={i} wrap="truncate-end" color={l.ok === false ? 'red' : undefined}>
          {indent}
          {l.text}
        </Text>
      ))}
      {failedLines.map((l, i) => (
        <Text key={i} color="red" wrap="truncate-end">
          {l}
        </Text>
      ))}
      {question > 0 && (
        <Text bold color="yellow" wrap="truncate-end">
          Cancel the drill? It tears the scratch instance down and records an aborted report. y/N
        </Text>
      )}
    </Box>
  );
}
