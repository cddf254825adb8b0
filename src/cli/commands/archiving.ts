import { resolveConfigDir } from '../../config/paths.js';
import { usage } from '../../errors.js';
import { enableArchiving } from '../../ops/archiving.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { Output } from '../output.js';
import { compressionOf } from './wal.js';
import { usageLine } from '../command-table.js';

const USAGE = usageLine('archiving', 'enable');

export async function archivingCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'enable') throw usage(sub ? `Unknown archiving command "${sub}"; use: ${USAGE}.` : `An archiving command is missing; usage: ${USAGE}.`);
  const p = parseCommand(rest, { apply: { type: 'boolean' }, 'archive-timeout': { type: 'string' }, compress: { type: 'string' }, batch: { type: 'string' } }, USAGE);
  const batch = str(p, 'batch');
  if (batch !== undefined && batch !== 'on' && batch !== 'off') throw usage(`--batch "${batch}" is not on or off; usage: ${USAGE}.`);
  const compress = compressionOf(str(p, 'compress'), USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const out = new Output(p.values.json === true);
  const r = await enableArchiving(resolveConfigDir(str(p, 'config')), name, { apply: p.values.apply === true, archiveTimeout: str(p, 'archive-timeout'), compress, ...(batch !== undefined ? { batch: batch !== 'off' } : {}) });
  for (const w of r.warnings) out.log(`WARN ${w}`);
  for (const n of r.notes ?? []) out.log(`OK   ${n}`);
  out.result(r, () => {
    if (r.statements.length === 0) return `Archiving of ${r.target} is already set up with ${r.tool ?? 'dbdrill wal-push'}.`;
    const lines = [...r.statements.map((s) => `${s};`), 'SELECT pg_reload_conf();'];
    if (!r.applied) {
      lines.push('', `Run these as a superuser, or again with --apply.${r.restartNeeded ? ' wal_level/archive_mode take effect only after a server restart.' : ''}`);
    } else {
      lines.push('', r.pendingRestart.length ? `Applied; restart the server for ${r.pendingRestart.join(', ')} to take effect.` : 'Applied; archiving is active.');
    }
    return lines.join('\n');
  });
  return 0;
}
