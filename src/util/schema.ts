import * as v from 'valibot';
import { checkFormat, damaged, describeValue, readJsonFile, type FileFormat } from './untrusted-file.js';

/**
 * Building blocks for the schemas of files dbdrill reads back (valibot: small, tree-shakable, a
 * few milliseconds to import). Every message is the second half of "<field> <message>", so a
 * failed parse reads "…/manifest.json: files[2].sha256 must be 64 hex digits; the file was edited
 * or is damaged." Objects are loose: fields this version does not know (written by a newer one, or
 * added next to it) pass through untouched and survive a rewrite.
 */

const not = (what: string) => (issue: v.BaseIssue<unknown>) => `must be ${what}, not ${describeValue(issue.input)}`;

export const text = () => v.string(not('text'));
export const nonEmptyText = () => v.pipe(text(), v.minLength(1, 'must not be empty'));
export const flag = () => v.boolean(not('true or false'));
export const count = () => v.pipe(v.number(not('a number')), v.integer(not('a whole number')), v.minValue(0, not('0 or more')));
export const positive = () => v.pipe(v.number(not('a number')), v.integer(not('a whole number')), v.minValue(1, not('1 or more')));
export const seconds = () => v.pipe(v.number(not('a number')), v.minValue(0, not('0 or more')));
export const list = <T extends v.GenericSchema>(item: T) => v.array(item, not('a list'));
export const oneOf = <const T extends readonly string[]>(options: T) =>
  v.picklist(options, (issue) => `must be one of ${options.join(', ')}, not ${describeValue(issue.input)}`);
export const loose = <T extends v.ObjectEntries>(entries: T) => v.looseObject(entries, not('an object'));

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;
/** A moment as dbdrill writes it (ISO 8601 with a zone); comparisons and arithmetic rely on it. */
export const isoTime = () =>
  v.pipe(text(), v.check((s) => ISO_RE.test(s) && !Number.isNaN(Date.parse(s)), (i) => `must be an ISO 8601 time with a zone, not ${describeValue(i.input)}`));
export const sha256Hex = () => v.pipe(text(), v.regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits'));
/** A path below the directory the file describes: relative, no "..", so nothing outside is read. */
export const innerPath = () =>
  v.pipe(
    nonEmptyText(),
    v.check((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..') && !p.includes('\0'), (i) => `must be a path inside its directory, not ${describeValue(i.input)}`),
  );

/** "files[2].sha256" from a valibot issue path. */
export function fieldPath(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = item.key as unknown;
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** The first problem in words: "files[2].sha256 must be 64 hex digits", "id is missing". */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  const field = fieldPath(issue);
  if (issue.input === undefined && field !== '') return `${field} is missing`;
  return field === '' ? issue.message : `${field} ${issue.message}`;
}

/** Validates `raw` (already format-checked) against `schema`, or throws the file's one sentence. */
export function parseWith<S extends v.GenericSchema>(schema: S, raw: unknown, file: string): v.InferOutput<S> {
  const r = v.safeParse(schema, raw, { abortEarly: true });
  if (r.success) return r.output;
  throw damaged(file, describeIssue(r.issues[0]));
}

/** Reads, format-checks and validates one file; undefined when it does not exist. */
export function readChecked<S extends v.GenericSchema>(file: string, format: FileFormat, schema: S): v.InferOutput<S> | undefined {
  const raw = readJsonFile(file);
  if (raw === undefined) return undefined;
  return parseWith(schema, checkFormat(raw, file, format), file);
}
