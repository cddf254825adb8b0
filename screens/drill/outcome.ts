import type { DrillReport } from '../../src/drill/report.js';
import { formatSeconds } from '../widgets/JobView/format.js';

const secs = (s: number | undefined) => (s === undefined || !Number.isFinite(s) ? '—' : formatSeconds(s));
const verdict = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? ' OK' : ' FAIL');

/** "RTO 41s (transfer 3s, replay 12s) ≤ 15m OK": measured, split, objective and verdict. */
export function rtoText(r: DrillReport): string {
  const rto = r.rto;
  if (!rto) return 'RTO —';
  const objective = rto.objectiveSeconds !== undefined ? ` · objective ${secs(rto.objectiveSeconds)}` : ' · no objective';
  return `RTO ${secs(rto.seconds)} (transfer ${secs(rto.transferSeconds)}${rto.applySeconds !== undefined ? `, apply ${secs(rto.applySeconds)}` : ''}, replay ${secs(rto.replaySeconds)})${objective}${verdict(rto.ok)}`;
}

export function rpoText(r: DrillReport): string {
  const rpo = r.rpo;
  if (!rpo) return 'RPO —';
  const objective = rpo.objectiveSeconds !== undefined ? ` · objective ${secs(rpo.objectiveSeconds)}` : ' · no objective';
  return `RPO ${secs(rpo.seconds)} (${rpo.reference})${objective}${verdict(rpo.ok)}`;
}

/** The status word the operator reads first; the same words as the headless report. */
export function statusWord(r: DrillReport): 'PASSED' | 'FAILED' | 'ABORTED' | 'RUNNING' {
  return r.status === 'passed' ? 'PASSED' : r.status === 'failed' ? 'FAILED' : r.status === 'aborted' ? 'ABORTED' : 'RUNNING';
}

/** A history row's RTO/RPO cell: "41s" or "41s FAIL". */
export function objectiveCell(seconds: number | undefined, ok: boolean | undefined): string {
  return `${secs(seconds)}${ok === false ? ' FAIL' : ''}`;
}

/** The closing lines of a finished drill: verdict, RTO, RPO, the checks, and where it failed. */
export function outcomeLines(r: DrillReport): { text: string; ok: boolean | undefined }[] {
  const lines: { text: string; ok: boolean | undefined }[] = [];
  lines.push({ text: rtoText(r), ok: r.rto?.ok });
  lines.push({ text: rpoText(r), ok: r.rpo?.ok });
  for (const c of r.checks) lines.push({ text: `${c.ok ? 'OK  ' : 'FAIL'} ${c.name}: ${c.detail}`, ok: c.ok });
  for (const n of r.notes ?? []) lines.push({ text: `note: ${n}`, ok: undefined });
  if (r.failedStep) lines.push({ text: `failed at ${r.failedStep}: ${r.error ?? ''}`, ok: false });
  else if (r.error) lines.push({ text: r.error, ok: false });
  if (r.kept) lines.push({ text: `kept: ${r.kept.dataDir} on port ${r.kept.port}`, ok: undefined });
  return lines;
}

/** Outcome lines fitted to `width`: failures wrap (the reason must be read whole), the rest truncate. */
export function fittedOutcome(r: DrillReport, width: number, wrap: (text: string, width: number) => string[]): { text: string; ok: boolean | undefined }[] {
  return outcomeLines(r).flatMap((l) => (l.ok === false ? wrap(l.text, width).slice(0, 3).map((text) => ({ text, ok: l.ok })) : [l]));
}
