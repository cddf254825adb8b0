import { closeSync, openSync, readSync } from 'node:fs';
import { DBW_HEADER_BYTES, decodeDbwHeader } from '../wal/format.js';
import { storedName } from './source.js';

const AGE_HEADER = 'age-encryption.org/v1\n';

/**
 * Whether a file of the primary repository is already age ciphertext: an encrypted target's
 * backup files and binlogs (they start with age's header) and its archived WAL (a .dbw whose
 * header lists the age encoding). A copy stores these as they are: the copy's own age layer
 * would only encrypt ciphertext again and make every restore from the copy decrypt twice.
 * Files dbdrill keeps plain by design (manifests, checkpoints, history files) still get it.
 */
export function sealedInPrimary(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(DBW_HEADER_BYTES);
    const n = readSync(fd, head, 0, head.length, 0);
    const got = head.subarray(0, n);
    if (got.toString('latin1', 0, AGE_HEADER.length) === AGE_HEADER) return true;
    if (!path.endsWith('.dbw')) return false;
    const h = decodeDbwHeader(got);
    return typeof h !== 'string' && h.encoding.includes('age');
  } finally {
    closeSync(fd);
  }
}

/** How a copy stores the primary's file `src` (repository-relative `rel`): one decision for every kind of copy. */
export function copyForm(src: string, rel: string, encrypted: boolean): { sealed: boolean; stored: string } {
  const sealed = encrypted && sealedInPrimary(src);
  return { sealed, stored: storedName(rel, encrypted && !sealed) };
}
