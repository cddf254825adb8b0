import type { ReactNode } from 'react';
import { formatDuration } from '../../src/config/duration.js';
import type { PitrReport } from '../../src/ops/pitr.js';
import { useElapsed } from '../hooks/useElapsed.js';
import { useJobEvents } from '../hooks/useJobEvents.js';
import { utc } from '../text/time.js';
import { fit, wrapText } from '../text/width.js';
import { JobView } from '../widgets/JobView/JobView.js';
import { isBinlogPlan } from './PlanView.js';
import type { RestoreRun as Run } from './restoreState.js';

/** Where the restore got to, how to reach the server and how to stop it: the closing lines. */
export function reachedLines(r: PitrReport, width: number, asRoot: boolean): string[] {
  const room = Math.max(10, width - 5 - 11);
  const out: string[] = [];
  const add = (label: string, text: string) => wrapText(text, room).forEach((line, i) => out.push(`${fit(i === 0 ? label : '', 11)}${line}`));
  const reached = r.reached ?? {};
  add(
    'reached',
    reached.lastCommitAt
      ? `last commit replayed ${utc(reached.lastCommitAt)}${reached.stoppedBeforeXid ? `; stopped before transaction ${reached.stoppedBeforeXid} (${utc(reached.stoppedBeforeCommitAt ?? '')})` : ''}`
      : 'no commit after the backup was replayed (the backup\'s end)',
  );
  const binlog = isBinlogPlan(r);
  const unit = binlog ? 'binlog file' : 'archived segment';
  add('replayed', `${r.segmentsRestored ?? 0} ${unit}${r.segmentsRestored === 1 ? '' : 's'} in ${r.seconds.toFixed(1)} s${r.timeline ? `; now on timeline ${r.timeline}` : ''}`);
  add('server', `127.0.0.1:${r.port}${r.pid ? ` (pid ${r.pid})` : ''}, data in ${r.dataDir}`);
  if (r.logFile) add('log', r.logFile);
  // A MySQL/MariaDB restore names its own stop command (an option file holds its credentials).
  const mysqlStop = (r as PitrReport & { mysql?: { stopCommand?: string } }).mysql?.stopCommand;
  add('stop it', mysqlStop ?? `pg_ctl -D ${r.dataDir} stop${asRoot ? ' (as the postgres user)' : ''}`);
  return out;
}

/** The live restore: steps, "replaying WAL 3 of 5 segments" with a bar, the log tail, then the point reached. */
export function RestoreRun({ run, asking, width, height }: { run: Run; asking: boolean; width: number; height: number }): ReactNode {
  const snap = useJobEvents(run.store);
  const running = snap.state === 'running';
  const secs = useElapsed(run.startedAt, running);
  const r = snap.result;
  const detail = r ? reachedLines(r, width, process.getuid?.() === 0) : [];
  return (
    <JobView
      title={`Restore of ${run.target} to ${run.to === 'latest' ? 'latest' : utc(run.to)}${running ? ` · ${formatDuration(secs)}` : ''}`}
      snapshot={snap}
      doneText={r ? `Restored: a new server is up on 127.0.0.1:${r.port}.` : 'Restored.'}
      doneDetail={detail}
      question={asking && running ? 'Cancel the restore? y/N' : undefined}
      width={width}
      height={height}
    />
  );
}
