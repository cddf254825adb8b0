import type { ReactNode } from 'react';
import { formatDuration } from '../../src/config/duration.js';
import { formatBytes } from '../../src/util/bytes.js';
import { useElapsed } from '../hooks/useElapsed.js';
import { useJobEvents } from '../hooks/useJobEvents.js';
import { wrapText } from '../text/width.js';
import { JobView } from '../widgets/JobView/JobView.js';
import type { CatalogRun } from './catalogState.js';
import { VerifyAllRun } from './VerifyAllRun.js';

export interface BackupRunProps {
  run: CatalogRun;
  asking: boolean;
  width: number;
  height: number;
}

/** What the run is, in the words of the question that cancels it. */
export function runNoun(run: CatalogRun): string {
  return run.kind === 'backup' ? 'backup' : run.kind === 'restore' ? 'restore' : 'verification';
}

/**
 * The live Backup run view (also used for verify): steps with markers, a progress bar with bytes
 * done of total, rate and ETA, the phase by name ("waiting for checkpoint"), the newest log lines,
 * and the elapsed time in the title so a quiet phase still visibly moves.
 */
export function BackupRun({ run, asking, width, height }: BackupRunProps): ReactNode {
  // Two stores have two result types; each branch reads its own.
  if (run.kind === 'verify-all') return <VerifyAllRun run={run} asking={asking} width={width} height={height} />;
  if (run.kind === 'backup') return <BackupView run={run} asking={asking} width={width} height={height} />;
  if (run.kind === 'restore') return <LogicalRestoreView run={run} asking={asking} width={width} height={height} />;
  return <VerifyView run={run} asking={asking} width={width} height={height} />;
}

function LogicalRestoreView({ run, asking, width, height }: { run: Extract<CatalogRun, { kind: 'restore' }>; asking: boolean; width: number; height: number }): ReactNode {
  const snap = useJobEvents(run.store);
  const running = snap.state === 'running';
  const secs = useElapsed(run.startedAt, running);
  const r = snap.result;
  const rows = r ? r.tables.reduce((n, t) => n + (t.rows ?? 0), 0) : 0;
  const doneText = r
    ? `Restored into ${r.dbname}: ${r.tables.length} table${r.tables.length === 1 ? '' : 's'}, ${rows} row${rows === 1 ? '' : 's'}.`
    : 'Restored.';
  // Under the done line, wrapped rather than cut: whether the rows are the backup's.
  const detail = r ? wrapText(`${r.detail}.`, Math.max(10, width - 5)).slice(0, 3) : [];
  return (
    <JobView
      title={`Restore ${run.backup} of ${run.target} into ${run.dbname}${running ? ` · ${formatDuration(secs)}` : ''}`}
      snapshot={snap}
      doneText={doneText}
      doneMarker={r && !r.matches ? 'WARN' : 'OK'}
      doneDetail={detail}
      question={asking && running ? 'Cancel the restore? y/N' : undefined}
      width={width}
      height={height}
    />
  );
}

function BackupView({ run, asking, width, height }: { run: Extract<CatalogRun, { kind: 'backup' }>; asking: boolean; width: number; height: number }): ReactNode {
  const snap = useJobEvents(run.store);
  const running = snap.state === 'running';
  const secs = useElapsed(run.startedAt, running);
  const m = snap.result;
  const doneText = m
    ? `Backup ${m.id} complete: ${m.kind}, ${formatBytes(m.sizeBytes)} in ${m.files.length} file${m.files.length === 1 ? '' : 's'}, ${formatDuration(
        m.finishedAt ? (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000 : secs,
      )}.`
    : 'Backup complete.';
  return (
    <JobView
      title={`Backup of ${run.target} (${run.backupKind})${running ? ` · ${formatDuration(secs)}` : ''}`}
      snapshot={snap}
      doneText={doneText}
      question={asking && running ? 'Cancel the backup? y/N' : undefined}
      width={width}
      height={height}
    />
  );
}

function VerifyView({ run, asking, width, height }: { run: Extract<CatalogRun, { kind: 'verify' }>; asking: boolean; width: number; height: number }): ReactNode {
  const snap = useJobEvents(run.store);
  const running = snap.state === 'running';
  const secs = useElapsed(run.startedAt, running);
  const r = snap.result;
  const failed = r?.checks.filter((c) => !c.ok) ?? [];
  const doneText = r
    ? r.ok
      ? `Verified: ${r.checks.map((c) => c.method).join(', ')} passed.`
      : `Backup ${r.backup} failed ${failed.length} of ${r.checks.length} checks.`
    : 'Verified.';
  const detail = failed.flatMap((c) => wrapText(`${c.method}: ${c.detail}`, Math.max(10, width - 5)).slice(0, 2));
  return (
    <JobView
      title={`Verify ${run.backup} of ${run.target}${run.restore ? ' (with a restore)' : ''}${running ? ` · ${formatDuration(secs)}` : ''}`}
      snapshot={snap}
      doneText={doneText}
      doneMarker={r && !r.ok ? 'FAIL' : 'OK'}
      doneDetail={detail.slice(0, 4)}
      question={asking && running ? 'Cancel the verification? y/N' : undefined}
      width={width}
      height={height}
    />
  );
}
