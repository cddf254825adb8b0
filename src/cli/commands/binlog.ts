import { resolveConfigDir } from '../../config/paths.js';
import { startBinlogSync } from '../../ops/binlog-sync-mysql.js';
import { formatBytes } from '../../util/bytes.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';
import { usageLine } from '../command-table.js';

const USAGE = usageLine('binlog-sync');

/**
 * Archives the closed binary logs of a MySQL/MariaDB target into <repo>/binlog (for cron, e.g.
 * every minute with --rotate to bound how much an incident can lose).
 */
export async function binlogSyncCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { rotate: { type: 'boolean' }, verify: { type: 'boolean' } }, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const out = new Output(p.values.json === true);
  const job = startBinlogSync(resolveConfigDir(str(p, 'config')), name, { rotate: p.values.rotate === true, verify: p.values.verify === true }, interruptSignal());
  out.follow(job);
  const r = await job.result;
  out.result(r, () => {
    const bytes = r.copied.reduce((n, f) => n + f.size, 0);
    return [
      ...r.copied.map((f) => `copied   ${f.file} (${formatBytes(f.size)}, events ${f.firstEventAt ?? '—'} → ${f.lastEventAt ?? '—'})`),
      r.copied.length === 0
        ? `Nothing new to archive: ${r.alreadyArchived.length} closed binlog(s) already archived${r.verified ? ' (bytes compared)' : ''}.`
        : `Archived ${r.copied.length} binlog(s), ${formatBytes(bytes)}; ${r.alreadyArchived.length} were already archived${r.verified ? ' (bytes compared)' : ''}.`,
      `server:  writing ${r.server.current ?? '—'}${r.rotated ? ' (rotated just now)' : ''}; ${r.server.closed} closed binlog(s) on the server`,
      `archive: ${r.archived} file(s) in ${r.archiveDir}${r.newest ? `, newest ${r.newest}` : ''}`,
      ...r.gaps.map((g) => `GAP  ${g.from === g.to ? g.from : `${g.from}…${g.to}`} missing (${g.missing} file(s))`),
    ].join('\n');
  });
  return 0;
}
