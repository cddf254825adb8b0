import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
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
