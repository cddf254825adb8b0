import { readFileSync } from 'node:fs';
import { AGE_RECIPIENT_RE } from '../config/copies.js';

/** <repo>/encryption.json: the age public keys the repository's files are encrypted to. */
export const ENCRYPTION_FILE = 'encryption.json';

/**
 * The recipients recorded at `path` (a path from the archive's safe Dir), undefined when the
 * repository is not encrypted. A file that is there but unreadable or damaged is an error: WAL
 * must never be archived in plain because the recipients could not be read.
 */
export function readRecipients(path: string): string[] | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}), so the archive cannot be encrypted`);
  }
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new Error(`${path} is not valid JSON, so the archive cannot be encrypted`);
  }
  const r = (v as { recipients?: unknown }).recipients;
  if ((v as { with?: unknown }).with !== 'age' || !Array.isArray(r) || r.length === 0 || !r.every((x) => typeof x === 'string' && AGE_RECIPIENT_RE.test(x))) {
    throw new Error(`${path} does not list age public keys, so the archive cannot be encrypted`);
  }
  return r as string[];
}
