import type { StepStatus } from '../engines/context.js';
import { formatBytes } from '../util/bytes.js';

export interface DrillStep {
  name: string;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  seconds?: number;
  bytes?: number;
  detail?: string;
}

export interface DrillCheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** A user SQL check's condition and the value its query returned. */
  expected?: string;
  actual?: string;
}

/** One drill, as stored in <repo>/drills/<id>.json and printed by drill-report. */
/** The drill step that applies a chain's diffs and incrs onto its full, between restore base and replay. */
export const APPLY_STEP = 'apply incrementals';

export interface DrillReport {
  formatVersion: 1;
  id: string;
  target: string;
  engine: string;
  status: 'running' | 'passed' | 'failed' | 'aborted';
  startedAt: string;
  finishedAt?: string;
  /** What was asked: "latest" or an ISO time. */
  requested: string;
  backup?: string;
  kind?: 'logical' | 'physical';
  steps: DrillStep[];
  checks: DrillCheckResult[];
  /** What verification could not cover and why, in words (e.g. no table counts to compare). */
  notes?: string[];
  /** Measured recovery time: drill start to a verified, connectable instance. */
  rto?: { seconds: number; transferSeconds: number; replaySeconds: number; /** A chain's diffs and incrs applied onto its full. */ applySeconds?: number; objectiveSeconds?: number; ok?: boolean };
  /** Measured data loss: the target moment minus the last commit the instance holds. */
  rpo?: { seconds: number; lastCommitAt?: string; reference: string; objectiveSeconds?: number; ok?: boolean };
  failedStep?: string;
  error?: string;
  /** The scratch instance, once provisioned: its directory is removed at tear-down unless kept. */
  scratch?: { dir: string; dataDir: string; port: number };
  kept?: { dataDir: string; port: number };
  /** The copy the drill restored from (the primary repository treated as lost); its fetch counts in the RTO. */
  from?: { copy: string; files: number; bytes: number; seconds: number };
}

const fmtSecs = (s?: number) => (s === undefined ? '—' : s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);
const mark = (ok?: boolean) => (ok === undefined ? '—' : ok ? 'PASS' : 'FAIL');

/** The report as Markdown: for a ticket, a wiki page or an auditor. */
export function drillMarkdown(r: DrillReport): string {
  const lines = [
    `# Restore drill ${r.id} — ${r.target}: ${r.status.toUpperCase()}`,
    '',
    `- started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}`,
    `- restore target: ${r.requested}${r.backup ? `, from ${r.kind} backup ${r.backup}` : ''}`,
    ...(r.from ? [`- read from copy **${r.from.copy}** alone (the primary repository treated as lost): ${r.from.files} file(s), ${formatBytes(r.from.bytes)} fetched in ${fmtSecs(r.from.seconds)}, counted in the RTO`] : []),
    ...(r.failedStep ? [`- failed at **${r.failedStep}**: ${r.error ?? ''}`] : []),
    '',
    '| objective | measured | objective | result |',
    '| --- | --- | --- | --- |',
    `| RTO | ${fmtSecs(r.rto?.seconds)} (transfer ${fmtSecs(r.rto?.transferSeconds)}${r.rto?.applySeconds !== undefined ? `, apply incrementals ${fmtSecs(r.rto.applySeconds)}` : ''}, replay ${fmtSecs(r.rto?.replaySeconds)}) | ${fmtSecs(r.rto?.objectiveSeconds)} | ${mark(r.rto?.ok)} |`,
    `| RPO | ${fmtSecs(r.rpo?.seconds)} (${r.rpo?.reference ?? '—'}) | ${fmtSecs(r.rpo?.objectiveSeconds)} | ${mark(r.rpo?.ok)} |`,
    '',
    '## Steps',
    '',
    '| step | status | time | bytes | detail |',
    '| --- | --- | --- | --- | --- |',
    ...r.steps.map((s) => `| ${s.name} | ${s.status} | ${fmtSecs(s.seconds)} | ${s.bytes === undefined ? '—' : formatBytes(s.bytes)} | ${(s.detail ?? '').replace(/\|/g, '\\|')} |`),
    '',
    '## Checks',
    '',
    ...(r.checks.length ? r.checks.map((c) => `- ${c.ok ? 'OK' : 'FAIL'} ${c.name}: ${c.detail}`) : ['- none ran']),
    ...(r.notes ?? []).map((n) => `- note: ${n}`),
    '',
  ];
  return lines.join('\n');
}
