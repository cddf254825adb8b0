import type { ReactNode } from 'react';
import type { Target } from '../../src/config/target.js';
import type { JobSnapshot } from '../hooks/jobStore.js';
import { JobView } from '../widgets/JobView/JobView.js';

export interface SandboxRunProps {
  snapshot: JobSnapshot<Target>;
  width: number;
  height: number;
}

export function SandboxRun({ snapshot, width, height }: SandboxRunProps): ReactNode {
  const target = snapshot.result;
  const doneText = target
    ? `Training sandbox ready: target "${target.name}" on ${target.host}:${target.port}.`
    : 'Training sandbox ready.';
  return <JobView title="Training sandbox" snapshot={snapshot} doneText={doneText} width={width} height={height} />;
}

/** Lines a finished run needs under the table: title, steps, outcome (an error may take 3). */
export function finishedRunHeight(snapshot: JobSnapshot<Target>): number {
  return 1 + snapshot.steps.length + (snapshot.state === 'failed' ? 3 : 1);
}
