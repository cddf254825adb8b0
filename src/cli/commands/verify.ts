import { identityPath, useIdentity } from '../../crypto/identity.js';
import { resolveConfigDir } from '../../config/paths.js';
import { usage } from '../../errors.js';
import { startVerify } from '../../ops/verify.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';
import { usageLine } from '../command-table.js';
import { repositoryText } from './verify-repository-text.js';

const USAGE = usageLine('verify');

export async function verifyCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { backup: { type: 'string' }, restore: { type: 'boolean' }, from: { type: 'string' }, identity: { type: 'string' } }, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const out = new Output(p.values.json === true);
  const configDir = resolveConfigDir(str(p, 'config'));
  const backup = str(p, 'backup');
  const restore = p.values.restore === true;
  const fromCopy = str(p, 'from');
  // The identity opens an encrypted repository's backups and WAL, and an encrypted copy.
  if (str(p, 'identity') !== undefined) useIdentity(identityPath(str(p, 'identity')));
  // A copy is verified as the primary is, once fetched: fetching checks every file against the
  // copy's sha256 (and decrypts with the identity), then the same checks run on what arrived.
  const fetched = fromCopy === undefined ? undefined : await (await import('../../copies/restore-from.js')).fetchForRestore(configDir, name, fromCopy, str(p, 'identity'), (l) => out.log(l), interruptSignal());
  try {
    return await verifyIn(out, configDir, name, backup, restore, fetched?.repo);
  } finally {
    fetched?.cleanup();
  }
}

async function verifyIn(out: Output, configDir: string, name: string, backup: string | undefined, restore: boolean, repo: string | undefined): Promise<number> {
  if (backup === undefined && !restore) {
    // No backup named: every backup, every chain and the whole archive.
    const { startVerifyRepository } = await import('../../ops/verify-repository.js');
    const job = startVerifyRepository(configDir, name, interruptSignal(), repo ? { repo } : {});
    out.follow(job);
    const r = await job.result;
    out.result(r, () => repositoryText(r));
    return r.ok ? 0 : 1;
  }
  const job = startVerify(configDir, name, { backup, restore, ...(repo ? { repo } : {}) }, interruptSignal());
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
