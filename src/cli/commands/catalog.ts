import { resolveConfigDir } from '../../config/paths.js';
import { formatDuration } from '../../config/duration.js';
import { readCatalog, type CatalogEntry } from '../../ops/catalog.js';
import { showTarget } from '../../ops/targets.js';
import { formatBytes } from '../../util/bytes.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { Output } from '../output.js';
import { table } from '../text-table.js';
import { usageLine } from '../command-table.js';

const USAGE = usageLine('catalog');

export async function catalogCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, {}, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const out = new Output(p.values.json === true);
  const configDir = resolveConfigDir(str(p, 'config'));
  const cat = await readCatalog(configDir, name);
  for (const u of cat.unreadable) out.log(`WARN backup ${u.id}: manifest unreadable (${u.error})`);
  // Where each backup is held (the primary and each copy), when the target has copies.
  const { heldForCatalog } = await import('../../copies/view.js');
  const { heldText } = await import('../../copies/status.js');
  const held = heldForCatalog(showTarget(configDir, name));
  const backups = held.size ? cat.backups.map((b) => ({ ...b, held: held.get(b.id) ?? [] })) : cat.backups;
  const heldCol = (id: string) => (held.size ? [heldText(held.get(id) ?? [])] : []);
  // Chains (pgBackRest diff/incr): which backup each one was taken against.
  const chained = cat.backups.some((b) => b.prior);
  const priorCol = (prior: string | undefined) => (chained ? [prior ?? '—'] : []);
  out.result({ ...cat, backups }, () =>
    cat.backups.length === 0
      ? `No backups of ${cat.target} yet in ${cat.repo}; take one with: dbdrill backup ${cat.target} --kind logical`
      : table(
          ['ID', 'KIND', 'TYPE', ...(chained ? ['PRIOR'] : []), 'STATUS', 'STARTED', 'DURATION', 'SIZE', 'VERIFIED', ...(held.size ? ['HELD'] : [])],
          cat.backups.map((b) => [
            b.id,
            b.kind,
            b.type,
            ...priorCol(b.prior),
            b.status,
            b.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
            b.durationSeconds === undefined ? '—' : formatDuration(b.durationSeconds),
            b.status === 'complete' ? formatBytes(b.sizeBytes) : '—',
            b.verified ? `${b.verified.ok ? 'OK' : 'FAIL'} ${b.verified.method}` : 'no',
            ...heldCol(b.id),
          ]),
        ) + chainLines(cat.backups),
  );
  return 0;
}

/** Under the table, what each diff or incr's restore reads. */
function chainLines(backups: CatalogEntry[]): string {
  const chains = backups.filter((b) => b.reads);
  return chains.length === 0 ? '' : `\n\n${chains.map((b) => `${b.id} restores from ${readsText(b)}`).join('\n')}`;
}

/** "full A (1.2 GB) → incr B (30 MB) = 1.23 GB", or the break. */
function readsText(b: CatalogEntry): string {
  const reads = b.reads ?? [];
  const chain = reads.map((r) => `${r.type} ${r.id} (${r.status === 'missing' ? 'missing' : formatBytes(r.sizeBytes)})`).join(' → ');
  return b.broken ? `${chain}: broken, ${b.broken}` : `${chain} = ${formatBytes(reads.reduce((n, r) => n + r.sizeBytes, 0))}`;
}
