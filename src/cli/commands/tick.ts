import { usageLine } from '../command-table.js';
import { resolveConfigDir } from '../../config/paths.js';
import type { RunRecord } from '../../repo/runs.js';
import { runTargetTick, runTick, type TickReport } from '../../ops/tick.js';
import { noExtraPositionals, parseCommand, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';

const USAGE = usageLine('tick');

/**
 * `dbdrill tick` (every minute, from cron or a systemd timer) and its per-target child
 * `dbdrill tick --run NAME`, which the tick starts detached; --run is internal.
 */
export async function tickCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { wait: { type: 'boolean' }, run: { type: 'string' } }, USAGE);
  noExtraPositionals(p, 0, USAGE);
  const configDir = resolveConfigDir(str(p, 'config'));
  const out = new Output(p.values.json === true);
  const run = str(p, 'run');
  if (run !== undefined) {
    interruptSignal();
    const r = await runTargetTick(configDir, run, (line, e) => (e ? out.event(e) : out.log(line)));
    if (r.busy) out.log(`${new Date().toISOString()} ${run}: busy with ${r.busy.job} (pid ${r.busy.pid} since ${r.busy.since}); nothing run`);
    return r.runs.some((x) => x.status !== 'ok') ? 1 : 0;
  }
  const report = await runTick(configDir, { wait: p.values.wait === true });
  out.result(report, () => render(report));
  const runs = report.targets.flatMap((t) => t.runs ?? []);
  // A copy that failed leaves the backup one disk from lost: cron mails it like a failed run.
  const copyFailed = runs.some((r) => Array.isArray(r.result?.copies) && (r.result.copies as { ok?: unknown }[]).some((c) => c.ok !== true));
  return report.targets.some((t) => t.action === 'error') || runs.some((r) => r.status !== 'ok') || copyFailed ? 1 : 0;
}

const runLine = (r: RunRecord) =>
  `    ran ${r.job}${r.slot ? ` (${r.slot})` : ''}: ${r.status.toUpperCase()}${r.result?.backup ? ` backup ${String(r.result.backup)}` : ''}${r.result?.drill ? ` drill ${String(r.result.drill)}` : ''}${copiesText(r.result?.copies)}${r.error ? ` — ${r.error}` : ''}`;

/** ", copied to nas ✓ offsite FAILED (why)" for a backup the policy sent to its copies. */
function copiesText(copies: unknown): string {
  if (!Array.isArray(copies) || copies.length === 0) return '';
  const one = (c: { copy?: unknown; ok?: unknown; error?: unknown }) => `${String(c.copy)} ${c.ok === true ? '✓' : `FAILED${c.error ? ` (${String(c.error)})` : ''}`}`;
  return `, copied to ${copies.map((c) => one(c as Record<string, unknown>)).join(' ')}`;
}

function render(r: TickReport): string {
  if (r.targets.length === 0) return `tick ${r.at}: no target has a policy; set one with dbdrill policy set NAME --full "0 2 * * 0".`;
  const lines = [`tick ${r.at}`];
  for (const t of r.targets) {
    const head =
      t.action === 'started' ? `started (pid ${t.pid})` : t.action === 'busy' ? `busy: ${t.holder?.job} (pid ${t.holder?.pid} since ${t.holder?.since})` : t.action === 'error' ? `ERROR ${t.error}` : 'nothing due';
    lines.push(`  ${t.target}: ${head}`);
    for (const j of t.jobs) lines.push(`    ${j.job}: ${j.reason}`);
    if (t.prune.reason) lines.push(`    prune: ${t.prune.due ? 'due' : 'not due'} (${t.prune.reason})`);
    for (const run of t.runs ?? []) lines.push(runLine(run));
  }
  return lines.join('\n');
}
