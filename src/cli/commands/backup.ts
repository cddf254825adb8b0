import { resolveConfigDir } from '../../config/paths.js';
import { formatDuration } from '../../config/duration.js';
import { usage } from '../../errors.js';
import type { Engine } from '../../config/target.js';
import { startBackup } from '../../ops/backup.js';
import { showTarget } from '../../ops/targets.js';
import { formatBytes } from '../../util/bytes.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';
import { usageLine } from '../command-table.js';
import { engineEntry } from '../../engines/registry.js';

const USAGE = usageLine('backup');

export async function backupCommand(argv: string[]): Promise<number> {
  const p = parseCommand(
    argv,
    { kind: { type: 'string' }, type: { type: 'string' }, jobs: { type: 'string' }, checkpoint: { type: 'string' }, digests: { type: 'boolean' } },
    USAGE,
  );
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  // No default kind: a logical and a physical backup restore in different ways (a new database
  // against a point in time), so which one was taken must never be a surprise.
  // --type names a link of a physical chain (full, diff, incr), so it says which kind was meant:
  // `backup NAME --type incr` is the pgBackRest shop's everyday line.
  const kind = str(p, 'kind') ?? (str(p, 'type') !== undefined ? 'physical' : undefined);
  if (kind === undefined) throw usage(`--kind is missing; choose --kind logical (pg_dump, mariadb-dump) or --kind physical (pg_basebackup, mariadb-backup); usage: ${USAGE}.`);
  if (kind !== 'logical' && kind !== 'physical') throw usage(`--kind "${kind}" is not known; use --kind logical or --kind physical.`);
  const type = str(p, 'type') ?? 'full';
  if (type !== 'full' && type !== 'diff' && type !== 'incr') throw usage(`--type "${type}" is not known; use full, diff or incr.`);
  const jobsText = str(p, 'jobs') ?? '1';
  const jobs = Number(jobsText);
  if (!/^\d+$/.test(jobsText) || jobs < 1 || jobs > 64) throw usage(`--jobs "${jobsText}" must be a whole number from 1 to 64.`);
  // Unset: the method's default (pg_basebackup: fast; pgBackRest: the target's start-fast).
  const checkpoint = str(p, 'checkpoint');
  if (checkpoint !== undefined && checkpoint !== 'fast' && checkpoint !== 'spread') throw usage(`--checkpoint "${checkpoint}" is not known; use fast or spread.`);

  const configDir = resolveConfigDir(str(p, 'config'));
  const target = showTarget(configDir, name);
  const jobsGiven = str(p, 'jobs') !== undefined;
  refuseIgnoredOptions(target.engine, target.method, kind, jobsGiven ? jobs : undefined, str(p, 'checkpoint') !== undefined);
  const out = new Output(p.values.json === true);
  // Unset --jobs: the tool's own default (pg_dump one job; pgBackRest the conf's process-max).
  const job = startBackup(configDir, name, { kind, type, ...(jobsGiven ? { jobs } : {}), checkpoint, digests: p.values.digests === true }, interruptSignal());
  out.follow(job);
  const m = await job.result;
  out.result({ ok: true, backup: m }, () => {
    const secs = m.finishedAt ? (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000 : 0;
    // A backup kept in a method's own repository (pgBackRest) has no file list of dbdrill's.
    const files = m.files.length > 0 ? ` in ${m.files.length} file(s)` : '';
    const against = m.prior ? ` against ${m.prior}` : '';
    return `Backup ${m.id} complete: ${m.kind} ${m.type}${against}, ${formatBytes(m.sizeBytes)}${files}, ${formatDuration(secs)}.`;
  });
  return 0;
}

/** An option the chosen tool would not use is refused, not silently dropped. */
function refuseIgnoredOptions(engine: Engine, method: string | undefined, kind: 'logical' | 'physical', jobs: number | undefined, checkpoint: boolean): void {
  if (checkpoint && kind === 'logical') {
    throw usage('--checkpoint applies to physical backups (the checkpoint pg_basebackup starts with); a logical backup takes none, so drop --checkpoint or use --kind physical.');
  }
  const refused = engineEntry(engine).refuseBackupOption(kind, jobs, checkpoint, method);
  if (refused) throw usage(refused);
}
