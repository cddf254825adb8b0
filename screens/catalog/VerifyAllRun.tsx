import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { formatDuration } from '../../src/config/duration.js';
import { formatBytes } from '../../src/util/bytes.js';
import { useElapsed } from '../hooks/useElapsed.js';
import { useJobEvents } from '../hooks/useJobEvents.js';
import { hangingLines } from '../text/width.js';
import { JobView } from '../widgets/JobView/JobView.js';
import { StatusMarker } from '../widgets/StatusMarker/StatusMarker.js';
import type { CatalogRun } from './catalogState.js';
import { verifyAllLines } from './verifyAllLines.js';

/**
 * `dbdrill verify NAME` of the whole repository, live: while it runs, the steps and the progress
 * (backups verified of all, then WAL segments or binlogs read); once done, the verdict and one
 * entry per backup and per archive range, failures first and named with what they break.
 */
export function VerifyAllRun({ run, asking, width, height }: { run: Extract<CatalogRun, { kind: 'verify-all' }>; asking: boolean; width: number; height: number }): ReactNode {
  const snap = useJobEvents(run.store);
  const running = snap.state === 'running';
  const secs = useElapsed(run.startedAt, running);
  const title = `Verify the whole repository of ${run.target}${running ? ` · ${formatDuration(secs)}` : ''}`;
  const r = snap.result;
  if (snap.state !== 'done' || !r) {
    return <JobView title={title} snapshot={snap} doneText="Verified." question={asking && running ? 'Cancel the verification? y/N' : undefined} width={width} height={height} />;
  }
  const passed = r.backups.filter((b) => b.status === 'ok').length;
  const verdict = r.ok
    ? `Repository verified: ${passed} backup(s) intact${r.archive ? `, the archive (${r.archive.files} file(s), ${formatBytes(r.archive.bytes)}) continuous from every backup to its end` : ''}.`
    : `Repository FAILED verification: ${r.problems.length} problem(s); ${passed} of ${r.backups.length} backup(s) intact.`;
  const head = hangingLines(verdict, width, 5, 3);
  const lines = verifyAllLines(r, width, Math.max(1, height - 1 - head.length));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {title}
      </Text>
      {head.map((l, i) => (
        <Text key={`v${i}`} wrap="truncate-end" color={r.ok ? 'green' : 'red'}>
          {i === 0 ? <StatusMarker marker={r.ok ? 'OK' : 'FAIL'} /> : '    '} {l}
        </Text>
      ))}
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate-end" color={l.marker === 'FAIL' ? 'red' : undefined} dimColor={l.marker === '' && l.text.startsWith('…')}>
          {l.marker ? <StatusMarker marker={l.marker} /> : '    '} {l.text}
        </Text>
      ))}
    </Box>
  );
}
