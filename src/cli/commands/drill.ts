import { identityPath, useIdentity } from '../../crypto/identity.js';
import { resolveConfigDir } from '../../config/paths.js';
import { formatDuration } from '../../config/duration.js';
import { usage } from '../../errors.js';
import { drillMarkdown, type DrillReport } from '../../drill/report.js';
import { startDrill } from '../../ops/drill.js';
import { listDrills, readDrill } from '../../ops/drill-history.js';
import { checkSecondFor, parseSecondArg } from '../../binlog/second.js';
import { parseRestoreTarget } from '../../pitr/time.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';
import { table } from '../text-table.js';
import { formatBytes } from '../../util/bytes.js';
import { usageLine } from '../command-table.js';

const DRILL = usageLine('drill');
const REPORT = usageLine('drill-report');
const HISTORY = usageLine('drills');

const secs = (s?: number) => (s === undefined || Number.isNaN(s) ? '—' : formatDuration(s));

export async function drillCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { to: { type: 'string' }, second: { type: 'string' }, backup: { type: 'string' }, rto: { type: 'string' }, rpo: { type: 'string' }, keep: { type: 'boolean' }, from: { type: 'string' }, identity: { type: 'string' } }, DRILL);
  const name = requirePositional(p, 0, 'The target NAME', DRILL);
  noExtraPositionals(p, 1, DRILL);
  const to = parseRestoreTarget({ to: str(p, 'to') ?? 'latest' });
  const second = parseSecondArg(str(p, 'second'));
  checkSecondFor(second, to);
  const from = str(p, 'from');
  const identity = str(p, 'identity');
  // The identity opens an encrypted repository's backups and WAL, and an encrypted copy.
  if (identity !== undefined) useIdentity(identityPath(identity));
  const out = new Output(p.values.json === true);
  const job = startDrill(
    resolveConfigDir(str(p, 'config')),
    name,
    { to, ...(second ? { second } : {}), rto: str(p, 'rto'), rpo: str(p, 'rpo'), keep: p.values.keep === true, backup: str(p, 'backup'), ...(from !== undefined ? { from: { copy: from, ...(identity !== undefined ? { identity } : {}) } } : {}) },
    interruptSignal(),
  );
  out.follow(job);
  const r = await job.result;
  out.result(r, () => summary(r));
  return r.status === 'passed' ? 0 : 1;
}

function summary(r: DrillReport): string {
  const lines = [
    `Drill ${r.id} of ${r.target}: ${r.status.toUpperCase()}${r.error ? ` — ${r.error}` : ''}`,
    `  RTO ${secs(r.rto?.seconds)} (transfer ${secs(r.rto?.transferSeconds)}${r.rto?.applySeconds !== undefined ? `, apply incrementals ${secs(r.rto.applySeconds)}` : ''}, replay ${secs(r.rto?.replaySeconds)})${r.rto?.ok === undefined ? '' : r.rto.ok ? ' OK' : ' FAIL'}`,
    `  RPO ${secs(r.rpo?.seconds)}${r.rpo ? ` (${r.rpo.reference})` : ''}${r.rpo?.ok === undefined ? '' : r.rpo.ok ? ' OK' : ' FAIL'}`,
    ...r.checks.map((c) => `  ${c.ok ? 'OK  ' : 'FAIL'} ${c.name}: ${c.detail}`),
    ...(r.notes ?? []).map((n) => `  note: ${n}`),
  ];
  if (r.from) lines.splice(1, 0, `  from copy ${r.from.copy} alone: ${r.from.files} file(s), ${formatBytes(r.from.bytes)} fetched in ${secs(r.from.seconds)} (counted in the RTO's transfer)`);
  if (r.kept) lines.push(`  kept: ${r.kept.dataDir} on port ${r.kept.port}`);
  lines.push(`Report: dbdrill drill-report ${r.target} ${r.id}`);
  return lines.join('\n');
}

export async function drillReportCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, {}, REPORT);
  const name = requirePositional(p, 0, 'The target NAME', REPORT);
  noExtraPositionals(p, 2, REPORT);
  const r = readDrill(resolveConfigDir(str(p, 'config')), name, p.positionals[1]);
  new Output(p.values.json === true).result(r, () => drillMarkdown(r));
  return 0;
}

export async function drillsCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, {}, HISTORY);
  const name = requirePositional(p, 0, 'The target NAME', HISTORY);
  noExtraPositionals(p, 1, HISTORY);
  const all = listDrills(resolveConfigDir(str(p, 'config')), name);
  new Output(p.values.json === true).result({ target: name, drills: all }, () =>
    all.length === 0
      ? `No drills of ${name} yet; run one with dbdrill drill ${name}.`
      : table(
          ['ID', 'STATUS', 'BACKUP', 'TARGET', 'RTO', 'RPO', 'FAILED STEP'],
          all.map((d) => [d.id, d.status, d.backup ?? '—', d.requested, `${secs(d.rto?.seconds)}${d.rto?.ok === false ? ' FAIL' : ''}`, `${secs(d.rpo?.seconds)}${d.rpo?.ok === false ? ' FAIL' : ''}`, d.failedStep ?? '']),
        ),
  );
  return 0;
}
