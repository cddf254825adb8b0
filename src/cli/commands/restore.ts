import { resolveConfigDir } from '../../config/paths.js';
import { usage } from '../../errors.js';
import { startLogicalRestore } from '../../ops/restore.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';

const USAGE = 'dbdrill restore NAME [--backup ID] --dbname NEWDB [--table T] [--jobs N] [--json]';

export async function restoreCommand(argv: string[]): Promise<number> {
  const p = parseCommand(
    argv,
    {
      backup: { type: 'string' },
      dbname: { type: 'string' },
      table: { type: 'string' },
      jobs: { type: 'string' },
      to: { type: 'string' },
      into: { type: 'string' },
      port: { type: 'string' },
    },
    USAGE,
  );
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  if (str(p, 'to') || str(p, 'into')) {
    throw usage('Point-in-time restore (--to/--into) is not built yet; restore a logical backup with --dbname NEWDB.');
  }
  const dbname = str(p, 'dbname');
  if (!dbname) throw usage(`--dbname NEWDB is missing: a logical restore goes into a new database; usage: ${USAGE}.`);
  const jobsText = str(p, 'jobs') ?? '1';
  if (!/^\d+$/.test(jobsText) || Number(jobsText) < 1 || Number(jobsText) > 64) throw usage(`--jobs "${jobsText}" must be a whole number from 1 to 64.`);

  const out = new Output(p.values.json === true);
  const job = startLogicalRestore(
    resolveConfigDir(str(p, 'config')),
    name,
    { backup: str(p, 'backup'), dbname, table: str(p, 'table'), jobs: Number(jobsText) },
    interruptSignal(),
  );
  out.follow(job);
  const r = await job.result;
  out.result(r, () =>
    [
      ...r.tables.map((t) => `     ${t.table}: ${t.rows} rows`),
      `${r.matches ? 'OK  ' : 'WARN'} ${r.detail}`,
      `Restored backup ${r.backup} into database ${r.dbname}.`,
    ].join('\n'),
  );
  return r.matches ? 0 : 1;
}
