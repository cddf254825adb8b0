import { usageLine } from '../command-table.js';
import { resolveConfigDir } from '../../config/paths.js';
import { usage } from '../../errors.js';
import { strategyPlan, type StrategyPlan } from '../../ops/plan.js';
import { formatBytes } from '../../util/bytes.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { Output } from '../output.js';

const USAGE = usageLine('plan');

export async function planCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { days: { type: 'string' } }, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const daysText = str(p, 'days') ?? '7';
  if (!/^\d{1,3}$/.test(daysText) || Number(daysText) < 1 || Number(daysText) > 366) throw usage(`--days "${daysText}" must be a whole number of days from 1 to 366.`);
  const plan = await strategyPlan(resolveConfigDir(str(p, 'config')), name, { days: Number(daysText) });
  new Output(p.values.json === true).result(plan, () => render(plan));
  return 0;
}

const utc = (s: string) => s.replace('T', ' ').replace(/:00\.000Z$/, 'Z');
const size = (b?: number) => (b === undefined ? 'size unknown' : formatBytes(b));

function render(p: StrategyPlan): string {
  const lines = [`Strategy of ${p.target}`, '', `Next runs (UTC, ${p.days} days):`];
  if (p.runs.length === 0) lines.push('  none scheduled; set some with dbdrill policy set');
  for (const r of p.runs) lines.push(`  ${r.job.padEnd(14)} ${r.schedule.padEnd(14)} ${r.next.length ? r.next.slice(0, 4).map(utc).join(', ') + (r.next.length > 4 ? `, … (${r.next.length} runs)` : '') : 'none in this period'}`);
  lines.push('', 'Repository at steady state:');
  for (const b of p.steady.backups) lines.push(`  ${b.what.padEnd(8)} ${String(b.kept).padStart(4)} kept × ${size(b.bytesEach)} = ${size(b.bytes)}`);
  if (p.steady.archive) lines.push(`  archive  ${p.steady.archive.days} days × ${p.steady.archive.bytesPerDay === undefined ? 'rate unknown' : `${formatBytes(p.steady.archive.bytesPerDay)}/day`} = ${size(p.steady.archive.bytes)}`);
  for (const n of p.steady.notes) lines.push(`  ${n}`);
  lines.push('', 'Objectives:');
  const mark = (ok?: boolean) => (ok === undefined ? '--  ' : ok ? 'OK  ' : 'FAIL');
  lines.push(`  ${mark(p.objectives.rpo.ok)} RPO ${p.objectives.rpo.objective ?? '—'}: ${p.objectives.rpo.assessment}`);
  lines.push(`  ${mark(p.objectives.rto.ok)} RTO ${p.objectives.rto.objective ?? '—'}: ${p.objectives.rto.assessment}`);
  if (p.measured.serverError) lines.push(`  (server: ${p.measured.serverError})`);
  return lines.join('\n');
}
