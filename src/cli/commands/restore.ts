import { identityPath, useIdentity } from '../../crypto/identity.js';
import { resolveConfigDir } from '../../config/paths.js';
import { parsePort } from '../../config/target.js';
import { usage } from '../../errors.js';
import { startPitrRestore, type PitrReport } from '../../ops/pitr.js';
import { isMysqlPitrReport, isMysqlPlan } from '../../engines/restore-types.js';
import { startLogicalRestore } from '../../ops/restore.js';
import { checkSecondFor, parseSecondArg } from '../../binlog/second.js';
import { parseRestoreTarget, type RestoreTarget } from '../../pitr/time.js';
import { formatBytes } from '../../util/bytes.js';
import { noExtraPositionals, parseCommand, requirePositional, str, type Parsed } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';
import { usageLine } from '../command-table.js';

const USAGE = usageLine('restore');

export async function restoreCommand(argv: string[]): Promise<number> {
  const p = parseCommand(
    argv,
    {
      backup: { type: 'string' },
      dbname: { type: 'string' },
      table: { type: 'string' },
      jobs: { type: 'string' },
      to: { type: 'string' },
      lsn: { type: 'string' },
      xid: { type: 'string' },
      name: { type: 'string' },
      gtid: { type: 'string' },
      position: { type: 'string' },
      exclusive: { type: 'boolean' },
      second: { type: 'string' },
      timeline: { type: 'string' },
      into: { type: 'string' },
      port: { type: 'string' },
      'dry-run': { type: 'boolean' },
      from: { type: 'string' },
      identity: { type: 'string' },
    },
    USAGE,
  );
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const pitr = ['to', 'lsn', 'xid', 'name', 'gtid', 'position', 'into', 'port', 'second'].some((k) => p.values[k] !== undefined);
  if (pitr && str(p, 'dbname')) throw usage('Give either --dbname (logical restore into a new database) or --to/--into/--port (point-in-time restore), not both.');
  return pitr ? pointInTime(name, p) : logical(name, p);
}

async function pointInTime(name: string, p: Parsed): Promise<number> {
  const into = str(p, 'into');
  const portText = str(p, 'port');
  if (!into || !portText) throw usage(`A point-in-time restore needs --into DIR (a new or empty directory) and --port P (a free port); usage: ${USAGE}.`);
  const timelineText = str(p, 'timeline');
  if (timelineText !== undefined && !/^\d+$/.test(timelineText)) throw usage(`--timeline "${timelineText}" must be a timeline number such as 1 or 2.`);
  const given = { to: str(p, 'to'), lsn: str(p, 'lsn'), xid: str(p, 'xid'), name: str(p, 'name'), gtid: str(p, 'gtid'), position: str(p, 'position') };
  // --backup ID with no target: that backup as it was taken.
  const target: RestoreTarget = Object.values(given).every((v) => v === undefined) && str(p, 'backup') !== undefined ? { kind: 'immediate' } : parseRestoreTarget(given);
  const second = parseSecondArg(str(p, 'second'));
  checkSecondFor(second, target);
  const out = new Output(p.values.json === true);
  if (target.kind === 'time') out.log(`restore target: ${target.at.toISOString()} (UTC; given as "${target.input}")`);
  const configDir = resolveConfigDir(str(p, 'config'));
  const fromCopy = str(p, 'from');
  // The identity opens an encrypted repository's backups and WAL, and an encrypted copy.
  if (str(p, 'identity') !== undefined) useIdentity(identityPath(str(p, 'identity')));
  // The primary repository lost: the copy is fetched (and checked, and decrypted) into a temp repository first.
  const fetched = fromCopy === undefined ? undefined : await (await import('../../copies/restore-from.js')).fetchForRestore(configDir, name, fromCopy, str(p, 'identity'), (l) => out.log(l), interruptSignal());
  try {
    return await runPointInTime(out, configDir, name, p, target, second, timelineText, into, portText, fetched);
  } finally {
    fetched?.cleanup();
  }
}

async function runPointInTime(
  out: Output,
  configDir: string,
  name: string,
  p: Parsed,
  target: RestoreTarget,
  second: ReturnType<typeof parseSecondArg>,
  timelineText: string | undefined,
  into: string,
  portText: string,
  fetched: { repo: string; copy: string; files: number; bytes: number; seconds: number } | undefined,
): Promise<number> {
  const job = startPitrRestore(
    configDir,
    name,
    {
      target,
      into,
      port: parsePort(portText, '--port'),
      backup: str(p, 'backup'),
      timeline: timelineText === undefined ? undefined : Number(timelineText),
      exclusive: p.values.exclusive === true,
      second,
      dryRun: p.values['dry-run'] === true,
      ...(fetched ? { repo: fetched.repo } : {}),
    },
    interruptSignal(),
  );
  out.follow(job);
  const r = await job.result;
  const from = fetched ? { copy: fetched.copy, files: fetched.files, bytes: fetched.bytes, seconds: fetched.seconds } : undefined;
  out.result(from ? { ...r, from } : r, () => {
    if (isMysqlPlan(r.plan)) return mysqlText(r);
    const lines = [
      `plan:     backup ${r.plan.backup}, WAL ${r.plan.walFrom}…${r.plan.walTo} (${r.plan.segments} segment(s)), about ${formatBytes(r.plan.estimatedBytes)} to copy`,
      `recovery: ${Object.entries(r.plan.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`,
      ...r.plan.notes.map((n) => `note:     ${n}`),
    ];
    if (r.dryRun) return [...lines, `Dry run: ${r.dataDir} and port ${r.port} are usable; nothing was written.`].join('\n');
    const reached = r.reached?.lastCommitAt ? `the last commit replayed is from ${r.reached.lastCommitAt}` : 'no commit after the backup was replayed';
    return [
      ...lines,
      `Restored into ${r.dataDir}: ${reached}${r.reached?.stoppedBeforeXid ? ` (stopped before transaction ${r.reached.stoppedBeforeXid}, committed ${r.reached.stoppedBeforeCommitAt})` : ''}; ${r.segmentsRestored} archived segment(s) replayed in ${r.seconds.toFixed(1)} s${r.timeline ? `, now on timeline ${r.timeline}` : ''}.`,
      `The server runs on 127.0.0.1:${r.port} (pid ${r.pid}) with the source's users; its log is ${r.logFile}.`,
      `Stop it with: pg_ctl -D ${r.dataDir} stop${process.getuid?.() === 0 ? ' (as the postgres user)' : ''}`,
    ].join('\n');
  });
  return 0;
}

/** The same result in binlog terms, and how to reach and stop the new MariaDB server. */
function mysqlText(r: PitrReport): string {
  const lines = [
    `plan:     backup ${r.plan.backup} from binlog ${r.plan.settings['start-position']}, ${r.plan.segments ? `binlogs ${r.plan.walFrom}…${r.plan.walTo} (${r.plan.segments} file(s))` : 'no binlog to replay'}, about ${formatBytes(r.plan.estimatedBytes)} to read`,
    ...(isMysqlPlan(r.plan) && r.plan.chain ? [`reads:    ${r.plan.chain.map((m) => `${m.type} ${m.id} (${formatBytes(m.bytes)})`).join(' → ')}`] : []),
    `replay:   ${Object.entries(r.plan.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    ...r.plan.notes.map((n) => `note:     ${n}`),
  ];
  if (r.dryRun || !isMysqlPitrReport(r)) return [...lines, `Dry run: ${r.dataDir.replace(/\/data$/, '')} and port ${r.port} are usable; nothing was written.`].join('\n');
  const my = r.mysql;
  const reached = r.reached?.lastCommitAt
    ? `the last change replayed is from ${r.reached.lastCommitAt} (${my.transactionsReplayed} transaction(s)${my.lastGtid ? `, the last GTID ${my.lastGtid}` : ''})`
    : 'no change after the backup was replayed';
  return [
    ...lines,
    ...my.tables.map((t) => `     ${t.table}: ${t.rows} rows`),
    `Restored into ${my.instanceDir}: ${reached}; ${r.segmentsRestored} binlog file(s) read in ${r.seconds.toFixed(1)} s.`,
    `The server runs on 127.0.0.1:${r.port} (pid ${r.pid}); connect with: mariadb --defaults-extra-file=${my.optionFile} ${my.schema}`,
    `Its log is ${r.logFile}. Stop it with: ${my.stopCommand}`,
  ].join('\n');
}

async function logical(name: string, p: Parsed): Promise<number> {
  const dbname = str(p, 'dbname');
  if (!dbname) throw usage(`--dbname NEWDB is missing: a logical restore goes into a new database; usage: ${USAGE}.`);
  const jobsText = str(p, 'jobs') ?? '1';
  if (!/^\d+$/.test(jobsText) || Number(jobsText) < 1 || Number(jobsText) > 64) throw usage(`--jobs "${jobsText}" must be a whole number from 1 to 64.`);
  const out = new Output(p.values.json === true);
  const configDir = resolveConfigDir(str(p, 'config'));
  const fromCopy = str(p, 'from');
  // The identity opens an encrypted repository's backups and WAL, and an encrypted copy.
  if (str(p, 'identity') !== undefined) useIdentity(identityPath(str(p, 'identity')));
  const fetched = fromCopy === undefined ? undefined : await (await import('../../copies/restore-from.js')).fetchForRestore(configDir, name, fromCopy, str(p, 'identity'), (l) => out.log(l), interruptSignal());
  try {
    return await runLogical(out, configDir, name, p, dbname, Number(jobsText), fetched);
  } finally {
    fetched?.cleanup();
  }
}

async function runLogical(out: Output, configDir: string, name: string, p: Parsed, dbname: string, jobs: number, fetched: { repo: string; copy: string } | undefined): Promise<number> {
  const job = startLogicalRestore(
    configDir,
    name,
    { backup: str(p, 'backup'), dbname, table: str(p, 'table'), jobs, ...(fetched ? { repo: fetched.repo } : {}) },
    interruptSignal(),
  );
  out.follow(job);
  const r = await job.result;
  out.result(fetched ? { ...r, from: { copy: fetched.copy } } : r, () =>
    [
      ...r.tables.map((t) => `     ${t.table}: ${t.rows} rows`),
      `${r.matches ? 'OK  ' : 'WARN'} ${r.detail}`,
      `Restored backup ${r.backup} into database ${r.dbname}.`,
    ].join('\n'),
  );
  return r.matches ? 0 : 1;
}
