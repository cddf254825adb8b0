import { usageLine } from '../command-table.js';
import { resolveConfigDir } from '../../config/paths.js';
import { startPrune, type PruneReport } from '../../ops/prune.js';
import { formatBytes } from '../../util/bytes.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';

const USAGE = usageLine('prune');

export async function pruneCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { 'dry-run': { type: 'boolean' } }, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const out = new Output(p.values.json === true);
  const job = startPrune(resolveConfigDir(str(p, 'config')), name, { dryRun: p.values['dry-run'] === true }, interruptSignal());
  out.follow(job);
  const r = await job.result;
  out.result(r, () => render(r));
  return 0;
}

function render(r: PruneReport): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const lines: string[] = [];
  for (const b of r.backups) lines.push(`${b.keep ? 'keep  ' : r.dryRun ? 'REMOVE' : 'GONE  '} ${b.id} ${b.kind} ${b.type} ${b.status}: ${b.reasons.join('; ')}`);
  const going = r.archive.files.filter((f) => !f.keep);
  const kept = r.archive.files.filter((f) => f.keep);
  if (going.length) lines.push(`${r.dryRun ? 'REMOVE' : 'GONE  '} archive ${going[0]!.name}…${going.at(-1)!.name} (${going.length} file(s), ${formatBytes(going.reduce((n, f) => n + f.bytes, 0))}): ${going[0]!.reason}`);
  if (kept.length) lines.push(`keep   archive ${kept[0]!.name}…${kept.at(-1)!.name} (${kept.length} file(s)): ${kept[0]!.reason}`);
  if (!going.length) lines.push(`keep   archive: ${r.archive.from ? `nothing before ${r.archive.from}` : r.archive.reason}`);
  const n = r.backups.filter((b) => !b.keep).length;
  const bytes = r.backups.filter((b) => !b.keep).reduce((s, b) => s + b.sizeBytes, 0) + going.reduce((s, f) => s + f.bytes, 0);
  lines.push(`${r.dryRun ? 'Dry run: ' : ''}${verb} ${n} backup(s) and ${going.length} archive file(s), ${formatBytes(bytes)}.`);
  return lines.join('\n');
}
