import { accessSync, chmodSync, chownSync, constants, copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { usage } from '../errors.js';

/**
 * The age identity (private key) FILE for reading an encrypted copy: --identity, else
 * DBDRILL_AGE_IDENTITY. Only its path is ever passed on (age -i FILE); its content is not read here.
 */
export function identityPath(flag: string | undefined): string | undefined {
  const given = flag ?? process.env.DBDRILL_AGE_IDENTITY;
  if (given === undefined || given === '') return undefined;
  if (/[\u0000-\u001f]/.test(given)) throw usage('--identity contains a newline or another control character; give the path of the age identity file.');
  const path = resolve(given);
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    accessSync(path, constants.R_OK);
  } catch {
    throw usage(`The age identity ${path} cannot be read; give --identity with the file age-keygen wrote (the private key matching the target's --encrypt-to).`);
  }
  return path;
}

let given: string | undefined;

/** The command's --identity (checked by identityPath), for reading an encrypted repository. */
export function useIdentity(path: string | undefined): void {
  given = path;
  // In-process WAL reads (verify) take it where wal-fetch does: the path, never the key.
  if (path) process.env.DBDRILL_AGE_IDENTITY = path;
}

/**
 * The identity FILE that opens the encrypted repository's backups and WAL: the command's
 * --identity, else DBDRILL_AGE_IDENTITY; undefined when neither is given.
 */
export function repositoryIdentity(): string | undefined {
  return given ?? identityPath(undefined);
}

/**
 * The identity as the restored server's restore_command (wal-fetch) will read it: through
 * DBDRILL_AGE_IDENTITY in the server's environment, never argv. A server running as another user
 * (postgres, when dbdrill is root) cannot read root's 0600 key file, so it gets a 0600 copy it
 * owns in a private scratch directory, which `remove` deletes once recovery has ended.
 */
export function identityForServer(account: { uid: number; gid: number } | undefined): { env: Record<string, string>; remove(): void } {
  const path = repositoryIdentity();
  if (!path) return { env: {}, remove() {} };
  if (!account) return { env: { DBDRILL_AGE_IDENTITY: path }, remove() {} };
  const dir = mkdtempSync(join(tmpdir(), 'dbdrill-identity-'));
  chmodSync(dir, 0o700);
  chownSync(dir, account.uid, account.gid);
  const copy = join(dir, 'identity');
  copyFileSync(path, copy);
  chmodSync(copy, 0o600);
  chownSync(copy, account.uid, account.gid);
  return { env: { DBDRILL_AGE_IDENTITY: copy }, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
