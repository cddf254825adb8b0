import { resolveConfigDir } from '../../config/paths.js';
import { startVerify } from '../../ops/verify.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';
import { usageLine } from '../command-table.js';

const USAGE = usageLine('verify');

export async function verifyCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { backup: { type: 'string' }, restore: { type: 'boolean' } }, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const out = new Output(p.values.json === true);
  const job = startVerify(resolveConfigDir(str(p, 'config')), name, { backup: str(p, 'backup'), restore: p.values.restore === true }, interruptSignal());
  out.follow(job);
  const r = await job.result;
  out.result(r, () =>
    [
      ...r.checks.map((c) => `${c.ok ? 'OK  ' : 'FAIL'} ${c.method}: ${c.detail}`),
      r.ok ? `Backup ${r.backup} verified.` : `Backup ${r.backup} FAILED verification.`,
      ...(r.status === 'corrupt'
        ? [`It is marked corrupt: no restore, drill or plan starts from it until verify passes again.`]
        : r.statusBefore === 'corrupt' ? ['Its files match again: it is complete again and restores may start from it.'] : []),
    ].join('\n'),
  );
  return r.ok ? 0 : 1;
}
