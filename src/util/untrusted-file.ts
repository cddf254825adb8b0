import { readFileSync } from 'node:fs';
import { DbdrillError } from '../errors.js';

/**
 * Files dbdrill reads back (manifests, repo.json, drill reports, training state, the binlog index,
 * the config) may have been edited, cut short, replaced by a directory or written by another
 * version. Each problem becomes one sentence that names the file and what is wrong in it, never a
 * TypeError later. Free of the schema library: the config store uses it on wal-push's path.
 */

/** `<file>: <what is wrong>; the file was edited or is damaged.` */
export function damaged(file: string, problem: string): DbdrillError {
  return new DbdrillError('invalid-input', `${file}: ${problem}; the file was edited or is damaged.`, { file });
}

/** The file's JSON, or undefined when there is no such file. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw unreadable(file, e);
  }
  return parseJsonText(text, file);
}

/** JSON.parse with the file named in the sentence (a truncated file ends mid-value). */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw damaged(file, text.trim() === '' ? 'is empty' : `is not valid JSON (${(e as Error).message})`);
  }
}

/** The sentence for a file that exists but cannot be read at all. */
export function unreadable(file: string, e: unknown): DbdrillError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return new DbdrillError('invalid-input', `${file}: is a directory where a file belongs; move it away.`, { file });
  if (code === 'EACCES' || code === 'EPERM') return new DbdrillError('invalid-input', `${file}: cannot be read (permission denied); check its owner and mode.`, { file });
  return new DbdrillError('invalid-input', `${file}: cannot be read (${code ?? (e as Error).message}).`, { file });
}

export interface FileFormat {
  /** What the file is, for the sentence: "a dbdrill backup manifest". */
  what: string;
  /** The `format` field's value, for files that carry one. */
  format?: string;
  /** The key that holds the version (formatVersion, or version in the config file). */
  versionKey: string;
  /** The only version this dbdrill reads. */
  version: number;
  /** A file without the version key is read as `version` (the config file has none at first). */
  versionOptional?: boolean;
  /** What to do about a foreign file (another program's, at a path dbdrill uses). */
  foreignFix?: string;
}

/**
 * Checks that `raw` is a JSON object of the expected kind and version, before its fields are: a
 * foreign file is named as such and a newer one says to upgrade, rather than listing odd fields.
 */
export function checkFormat(raw: unknown, file: string, f: FileFormat): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw damaged(file, `must hold a JSON object (${f.what}), not ${describeValue(raw)}`);
  }
  const obj = raw as Record<string, unknown>;
  if (f.format !== undefined && obj.format !== f.format) {
    throw new DbdrillError(
      'invalid-input',
      `${file}: is not ${f.what} (format is ${obj.format === undefined ? 'missing' : JSON.stringify(obj.format)}, expected "${f.format}"); ${f.foreignFix ?? 'it was written by something else, or edited'}.`,
      { file },
    );
  }
  const version = obj[f.versionKey];
  if (version === undefined && f.versionOptional) return obj;
  if (typeof version === 'number' && Number.isInteger(version) && version > f.version) {
    throw new DbdrillError(
      'invalid-input',
      `${file}: ${f.versionKey} is ${version}, newer than this dbdrill reads (${f.version}); it was written by a newer dbdrill — upgrade to read it.`,
      { file },
    );
  }
  if (version === undefined) throw damaged(file, `${f.versionKey} is missing`);
  if (version !== f.version) throw damaged(file, `${f.versionKey} must be ${f.version}, not ${describeValue(version)}`);
  return obj;
}

/** A JSON value in words, for "must be X, not Y". */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return v.length > 40 ? 'text' : `"${v}"`;
    case 'number':
      return String(v);
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'missing';
    default:
      return 'an object';
  }
}
