import { resolveConfigDir } from '../../config/paths.js';
import { checkCopy, type CopyCheck } from '../../copies/fetch.js';
import { copyOf, runCopy, type CopyReport } from '../../copies/send.js';
import { addCopy, removeCopy, setEncryption } from '../../copies/targets.js';
import { showTarget } from '../../ops/targets.js';
import { DbdrillError, usage } from '../../errors.js';
import { formatBytes } from '../../util/bytes.js';
import { noExtraPositionals, parseCommand, requirePositional, str } from '../args.js';
import { interruptSignal } from '../interrupt.js';
import { Output } from '../output.js';
import { usageLine } from '../command-table.js';
import { identityPath } from '../../crypto/identity.js';

/**
 * `dbdrill copy NAME [--backup ID] [--to COPY] [--verify [--identity FILE]]`, and the target
 * subcommands that configure copies (`target copy-add`, `copy-remove`, `edit --encrypt-to`).
 */
const USAGE = usageLine('copy');

export async function copyCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, { backup: { type: 'string' }, to: { type: 'string' }, verify: { type: 'boolean' }, identity: { type: 'string' } }, USAGE);
  const name = requirePositional(p, 0, 'The target NAME', USAGE);
  noExtraPositionals(p, 1, USAGE);
  const out = new Output(p.values.json === true);
  const target = showTarget(resolveConfigDir(str(p, 'config')), name);
  if (!target.copies?.length) throw usage(`Target ${target.name} has no copies yet; add one with: dbdrill target copy-add ${target.name} COPY --dest DIR`);
  const to = str(p, 'to');
  const copies = to === undefined ? target.copies : [copyOf(target, to)];
  const signal = interruptSignal();
  if (p.values.verify === true) {
    if (str(p, 'backup') !== undefined) throw usage(`--verify checks every file on the copy; leave --backup out. Usage: ${USAGE}.`);
    const identity = identityPath(str(p, 'identity'));
    const checks: CopyCheck[] = [];
    for (const c of copies) {
      out.log(`verifying copy ${c.name} (${c.dest})…`);
      checks.push(await checkCopy(target, c, { identity, signal }));
    }
    const bad = checks.filter((c) => c.problems.length > 0);
    out.result({ ok: bad.length === 0, copies: checks }, () =>
      checks
        .map((c) => (c.problems.length === 0 ? `OK   copy ${c.copy}: ${c.files} file(s) match${c.decrypted ? ', decrypted and checked' : ''}` : [`FAIL copy ${c.copy}: ${c.problems.length} of ${c.files} file(s) do not match`, ...c.problemLines.map((l) => `     ${l}`)].join('\n')))
        .join('\n'),
    );
    return bad.length === 0 ? 0 : 1;
  }
  if (str(p, 'identity') !== undefined) throw usage(`--identity is for reading a copy (--verify, restore --from); sending needs only the public key. Usage: ${USAGE}.`);
  const reports: CopyReport[] = [];
  for (const c of copies) {
    try {
      reports.push(await runCopy(target, c, { backup: str(p, 'backup'), signal, log: (l) => out.log(l) }));
    } catch (e) {
      if (!(e instanceof DbdrillError) || copies.length === 1 || e.code === 'aborted') throw e;
      // One copy that cannot be reached does not keep the others from being made.
      out.log(`FAIL copy ${c.name}: ${e.message}`);
      reports.push({ target: target.name, copy: c.name, dest: c.dest, encrypted: false, files: 0, sent: 0, sentBytes: 0, verified: 0, verifiedBy: 'nothing to verify', failed: [{ file: '', why: e.message }], dropped: 0, seconds: 0 });
    }
  }
  const failed = reports.filter((r) => r.failed.length > 0);
  out.result({ ok: failed.length === 0, copies: reports }, () =>
    reports
      .map((r) =>
        r.failed.length === 0
          ? `OK   copy ${r.copy} (${r.dest}): sent ${r.sent} file(s), ${formatBytes(r.sentBytes)}, verified ${r.verified} (${r.verifiedBy}); ${r.files} file(s) held${r.encrypted ? ', encrypted with age' : ''}${r.dropped ? `; dropped ${r.dropped} that prune removed from the primary` : ''} (${r.seconds.toFixed(1)} s)`
          : [`FAIL copy ${r.copy} (${r.dest}): ${r.failed.length} file(s) failed`, ...r.failed.map((f) => `     ${f.file ? `${f.file}${f.backup ? ` (backup ${f.backup})` : ''}: ` : ''}${f.why}`)].join('\n'),
      )
      .join('\n'),
  );
  return failed.length === 0 ? 0 : 1;
}

export async function copyAddCommand(argv: string[]): Promise<number> {
  const u = usageLine('target', 'copy-add');
  const p = parseCommand(argv, { dest: { type: 'string' }, offsite: { type: 'boolean' }, 'rclone-config': { type: 'string' }, 'keep-full': { type: 'string' } }, u);
  const name = requirePositional(p, 0, 'The target NAME', u);
  const copy = requirePositional(p, 1, 'The COPY name', u);
  noExtraPositionals(p, 2, u);
  if (str(p, 'dest') === undefined) throw usage(`--dest is missing: give a directory on another disk or an rclone remote like nas:dbdrill; usage: ${u}.`);
  const out = new Output(p.values.json === true);
  const keepFull = str(p, 'keep-full');
  const r = await addCopy(resolveConfigDir(str(p, 'config')), name, { name: copy, dest: str(p, 'dest'), offsite: p.values.offsite === true, rcloneConfig: str(p, 'rclone-config'), ...(keepFull !== undefined ? { keepFull } : {}) });
  const keeps = r.copy.keepFull ? `, keeping its ${r.copy.keepFull} newest full backup(s) even after prune removes them from the primary` : '';
  out.result({ ok: true, target: r.target.name, copy: r.copy }, `Added copy ${r.copy.name} of ${r.target.name} to ${r.copy.dest}${r.copy.offsite ? ' (off-site)' : ''}${keeps}; send the backups with: dbdrill copy ${r.target.name} --to ${r.copy.name}`);
  return 0;
}

export async function copyRemoveCommand(argv: string[]): Promise<number> {
  const u = usageLine('target', 'copy-remove');
  const p = parseCommand(argv, {}, u);
  const name = requirePositional(p, 0, 'The target NAME', u);
  const copy = requirePositional(p, 1, 'The COPY name', u);
  noExtraPositionals(p, 2, u);
  const out = new Output(p.values.json === true);
  const r = removeCopy(resolveConfigDir(str(p, 'config')), name, copy);
  out.result({ ok: true, target: r.target.name, removed: r.copy }, `Removed copy ${r.copy.name} of ${r.target.name}; the files at ${r.copy.dest} were left untouched.`);
  return 0;
}

export async function targetEditCommand(argv: string[]): Promise<number> {
  const u = usageLine('target', 'edit');
  const p = parseCommand(argv, { 'encrypt-to': { type: 'string', multiple: true } }, u);
  const name = requirePositional(p, 0, 'The target NAME', u);
  noExtraPositionals(p, 1, u);
  const given = p.values['encrypt-to'] as unknown as string[] | undefined;
  if (!given?.length) throw usage(`Nothing to change; give --encrypt-to RECIPIENT (an age public key, repeatable) or --encrypt-to off; usage: ${u}.`);
  for (const g of given) if (g.trim() === '') throw usage(`--encrypt-to is empty; give an age public key (age1…) or off; usage: ${u}.`);
  const out = new Output(p.values.json === true);
  const off = given.length === 1 && given[0] === 'off';
  const t = setEncryption(resolveConfigDir(str(p, 'config')), name, off ? 'off' : given);
  out.result(
    { ok: true, target: t },
    off
      ? `New backups and archived WAL of ${t.name} are no longer encrypted, nor are its copies; backups already encrypted still need --identity FILE to restore.`
      : `The repository of ${t.name} and its copies are encrypted with age to ${t.encryptTo!.length} recipient(s): new backups and archived WAL are encrypted as they are written (those taken before stay as they are). Restores need --identity FILE.`,
  );
  return 0;
}
