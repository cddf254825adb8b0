import * as v from 'valibot';
import { ENGINES } from '../config/target.js';
import { isoTime, nonEmptyText, oneOf, parseWith, text } from '../util/schema.js';
import { checkFormat, type FileFormat } from '../util/untrusted-file.js';

/** <repo>/repo.json: whose repository this is, so a second target or server cannot write into it. */
export const REPO_FILE_FORMAT: FileFormat = {
  what: 'a dbdrill repository file',
  format: 'dbdrill-repo',
  versionKey: 'formatVersion',
  version: 1,
  foreignFix: "the directory belongs to something else: give the target an empty directory or a dbdrill repository as its repo",
};

export const RepoFileSchema = v.object({
  format: v.literal('dbdrill-repo'),
  formatVersion: v.literal(1),
  engine: oneOf(ENGINES),
  target: nonEmptyText(),
  systemId: v.optional(text()),
  createdAt: isoTime(),
});

export type RepoFile = v.InferOutput<typeof RepoFileSchema>;

export function parseRepoFile(raw: unknown, file: string): RepoFile {
  return parseWith(RepoFileSchema, checkFormat(raw, file, REPO_FILE_FORMAT), file);
}
