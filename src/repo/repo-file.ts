import * as v from 'valibot';
import { ENGINES } from '../config/target.js';
import { isoTime, loose, nonEmptyText, oneOf, parseWith, positive, text } from '../util/schema.js';
import { checkFormat, type FileFormat } from '../util/untrusted-file.js';

/** <repo>/repo.json: whose repository this is, so a second target or server cannot write into it. */
export const REPO_FILE_FORMAT: FileFormat = {
  what: 'a dbdrill repository file',
  format: 'dbdrill-repo',
  versionKey: 'formatVersion',
  version: 1,
  foreignFix: "the directory belongs to something else: give the target an empty directory or a dbdrill repository as its repo",
};

// Loose: fields written by other parts (wal-push records the WAL segment size) survive a rewrite.
export const RepoFileSchema = loose({
  format: v.literal('dbdrill-repo'),
  formatVersion: v.literal(1),
  engine: oneOf(ENGINES),
  target: nonEmptyText(),
  systemId: v.optional(text()),
  createdAt: isoTime(),
  /** The WAL segment size the archive holds (PostgreSQL), recorded by the first wal-push. */
  walSegmentBytes: v.optional(positive()),
});

export type RepoFile = v.InferOutput<typeof RepoFileSchema>;

export function parseRepoFile(raw: unknown, file: string): RepoFile {
  return parseWith(RepoFileSchema, checkFormat(raw, file, REPO_FILE_FORMAT), file);
}
