import { existsSync } from 'node:fs';
import { Repository } from '../repo/repository.js';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseDest, validateCopy, validateRecipients, type CopySpec } from '../config/copies.js';
import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import { invalid } from '../errors.js';
import { listRemotes } from './rclone.js';

/** What only the file system (or rclone) can tell about a new copy. */
export async function checkCopyReachable(target: Target, spec: CopySpec): Promise<void> {
  const dest = parseDest(spec.dest)!;
  if (dest.kind === 'local') {
    let st;
    try {
      st = statSync(dest.dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw invalid(`The copy's dest ${dest.dir} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}; create it (on another disk or a mount) first, or fix the path.`, { field: 'dest' });
    }
    if (!st.isDirectory()) throw invalid(`The copy's dest ${dest.dir} is not a directory; give a directory (on another disk or a mount).`, { field: 'dest' });
    try {
      accessSync(dest.dir, constants.W_OK | constants.X_OK);
    } catch {
      throw invalid(`The copy's dest ${dest.dir} is not writable by this user; fix its permissions or give another directory.`, { field: 'dest' });
    }
    // Through symlinks too: a link into the repository is the repository.
    const real = realpathSync(dest.dir);
    let repoReal = target.repo;
    try {
      repoReal = realpathSync(target.repo);
    } catch {
      repoReal = resolve(target.repo);
    }
    const r = relative(repoReal, real);
    const back = relative(real, repoReal);
    if (r === '' || (!r.startsWith('..') && !isAbsolute(r)) || (!back.startsWith('..') && !isAbsolute(back))) {
      throw invalid(`The copy's dest ${dest.dir} is ${real === dest.dir ? '' : `(through a link, ${real}) `}inside or around the primary repository ${target.repo}; a copy there is lost with it, so give a directory on another disk.`, { field: 'dest' });
    }
    return;
  }
  if (spec.rcloneConfig !== undefined) {
    try {
      accessSync(spec.rcloneConfig, constants.R_OK);
      if (!statSync(spec.rcloneConfig).isFile()) throw new Error('not a file');
    } catch {
      throw invalid(`The rclone config ${spec.rcloneConfig} cannot be read; create it with "rclone config --config ${spec.rcloneConfig}" or fix the path.`, { field: 'rcloneConfig' });
    }
  }
  const remotes = await listRemotes(spec.rcloneConfig);
  if (!remotes.includes(dest.remote)) {
    throw invalid(
      `The rclone remote "${dest.remote}" is not configured${spec.rcloneConfig ? ` in ${spec.rcloneConfig}` : ''} (${remotes.length ? `it has ${remotes.join(', ')}` : 'it has none'}); add it with rclone config${spec.rcloneConfig ? ` --config ${spec.rcloneConfig}` : ''} or give --rclone-config FILE.`,
      { field: 'dest' },
    );
  }
}

/** The stored form of a target (what update() takes): every field it has now. */
function asInput(t: Target): Record<string, unknown> {
  return { ...t };
}

export async function addCopy(configDir: string, name: string, input: { name: string; dest?: string; offsite?: boolean; rcloneConfig?: string; keepFull?: string | number }): Promise<{ target: Target; copy: CopySpec }> {
  const store = new TargetStore(configDir);
  const target = store.get(name);
  const rcloneConfig = input.rcloneConfig !== undefined && input.rcloneConfig.trim() !== '' && !/[\u0000-\u001f]/.test(input.rcloneConfig) ? resolve(input.rcloneConfig) : input.rcloneConfig;
  const spec = validateCopy(
    { name: input.name, dest: input.dest, ...(input.offsite ? { offsite: true } : {}), ...(rcloneConfig !== undefined ? { rcloneConfig } : {}), ...(input.keepFull !== undefined ? { keepFull: input.keepFull } : {}) },
    'copy',
    target.repo,
  );
  if (target.copies?.some((c) => c.name.toLowerCase() === spec.name.toLowerCase())) {
    throw invalid(`Target ${target.name} already has a copy named "${spec.name}"; pick another name or remove it first with dbdrill target copy-remove ${target.name} ${spec.name}.`);
  }
  for (const c of target.copies ?? []) {
    if (c.dest === spec.dest) throw invalid(`The copy "${c.name}" of ${target.name} already goes to ${spec.dest}; a second copy there is no second copy, so give another dest.`);
  }
  await checkCopyReachable(target, spec);
  const updated = store.update(name, { ...asInput(target), copies: [...(target.copies ?? []), spec] });
  return { target: updated, copy: spec };
}

export function removeCopy(configDir: string, name: string, copy: string): { target: Target; copy: CopySpec } {
  const store = new TargetStore(configDir);
  const target = store.get(name);
  const spec = target.copies?.find((c) => c.name === copy);
  if (!spec) throw invalid(`Target ${target.name} has no copy "${copy}"; ${target.copies?.length ? `its copies are ${target.copies.map((c) => c.name).join(', ')}` : 'it has none'}.`);
  const rest = (target.copies ?? []).filter((c) => c !== spec);
  const input = asInput(target);
  if (rest.length) input.copies = rest;
  else delete input.copies;
  return { target: store.update(name, input), copy: spec };
}

/** `target edit NAME --encrypt-to RECIPIENT…` (or `off`). */
export function setEncryption(configDir: string, name: string, recipients: string[] | 'off'): Target {
  const store = new TargetStore(configDir);
  const target = store.get(name);
  const input = asInput(target);
  if (recipients === 'off') delete input.encryptTo;
  else input.encryptTo = validateRecipients(recipients, '--encrypt-to');
  const updated = store.update(name, input);
  // wal-push reads the recipients from the repository: WAL archived from now on follows the change.
  if (existsSync(join(updated.repo, 'repo.json'))) new Repository(updated.repo).recordEncryption(updated.encryptTo);
  return updated;
}
