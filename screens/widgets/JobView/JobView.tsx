import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { JobSnapshot } from '../../hooks/jobStore.js';
import { hangingLines, truncateEnd } from '../../text/width.js';
import { MARKER_WIDTH, StatusMarker, stepMarker, type Marker } from '../StatusMarker/StatusMarker.js';
import { LogLines, ProgressLines, progressHeight } from './parts.js';

export interface JobViewProps {
  title: string;
  snapshot: JobSnapshot<unknown>;
  /** The closing line on success, e.g. "Training sandbox ready: target sandbox added." */
  doneText: string;
  /** The closing line's marker; a job can finish and still report a failed check (verify). */
  doneMarker?: Marker;
  /** Lines after the closing one: what was reached, how to stop it. They wrap no further. */
  doneDetail?: readonly string[];
  /** A question waiting for a key ("Cancel the backup? y/N"), shown last so it is seen. */
  question?: string;
  width: number;
  height: number;
}


/**
 * A job's steps, progress and newest log lines within a fixed height. Steps win over log lines
 * (they say where the job is); when even steps overflow, the oldest finished ones are folded.
 */
export function JobView({ title, snapshot, doneText, doneMarker = 'OK', doneDetail = [], question, width, height }: JobViewProps): ReactNode {
  const { steps, progress, log, state, error } = snapshot;
  // An error is the one thing the operator must read whole: it wraps under its own text (never
  // back to column 1) onto as many lines as the view has, a cut marked with "…".
  const errorLines = state === 'failed' ? hangingLines(error ?? '', width, MARKER_WIDTH + 1, Math.max(3, height - 2)) : [];
  const endLine = state === 'failed' ? errorLines.length : state === 'done' ? 1 + doneDetail.length : 0;
  const progressLines = progressHeight(progress, width);
  const questionLine = question ? 1 : 0;
  const stepRoom = Math.max(0, height - 1 - endLine - progressLines - questionLine);
  const folded = steps.length > stepRoom ? steps.length - Math.max(0, stepRoom - 1) : 0;
  const shownSteps = folded ? steps.slice(folded) : steps;
  const logRoom = Math.max(0, stepRoom - shownSteps.length - (folded ? 1 : 0));
  const shownLog = logRoom > 0 ? log.slice(-logRoom) : [];
  const textWidth = Math.max(0, width - MARKER_WIDTH - 1);
  const indent = ' '.repeat(MARKER_WIDTH + 1);

  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {title}
      </Text>
      {folded > 0 && (
        <Text dimColor wrap="truncate-end">
          {`… ${folded} earlier step${folded === 1 ? '' : 's'}`}
        </Text>
      )}
      {shownSteps.map((s) => (
        <Text key={s.name} wrap="truncate-end">
          <StatusMarker marker={stepMarker(s.status)} /> {truncateEnd(s.detail ? `${s.name}: ${s.detail}` : s.name, textWidth)}
        </Text>
      ))}
      <ProgressLines progress={progress} width={width} />
      <LogLines lines={shownLog} />
      {state === 'done' && (
        <Text wrap="truncate-end">
          <StatusMarker marker={doneMarker} /> {doneText}
        </Text>
      )}
      {state === 'done' &&
        doneDetail.map((line, i) => (
          <Text key={i} wrap="truncate-end">
            {indent}
            {line}
          </Text>
        ))}
      {errorLines.map((line, i) => (
        <Text key={`e${i}`} color="red" wrap="truncate-end">
          {i === 0 ? <StatusMarker marker="FAIL" /> : ' '.repeat(MARKER_WIDTH)} {line}
        </Text>
      ))}
      {question && (
        <Text bold color="yellow" wrap="truncate-end">
          {question}
        </Text>
      )}
    </Box>
  );
}
