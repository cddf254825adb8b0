import * as v from 'valibot';
import { count, flag, isoTime, loose, nonEmptyText, oneOf, parseWith, positive, seconds, text } from '../util/schema.js';
import { checkFormat, damaged, type FileFormat } from '../util/untrusted-file.js';
import { DISASTER_KINDS, type TrainingSession } from './session.js';

/**
 * <config>/training/<target>.json as read back. Kept apart from session.ts, which the console
 * runs: the schema library loads only when a session is read.
 */
export const TRAINING_FORMAT: FileFormat = { what: 'a dbdrill training session', versionKey: 'formatVersion', version: 1 };

export const TrainingSessionSchema = loose({
  formatVersion: v.literal(1),
  target: nonEmptyText(),
  kind: oneOf(DISASTER_KINDS),
  startedAt: isoTime(),
  lastGoodAt: isoTime(),
  disasterAt: isoTime(),
  what: text(),
  before: v.optional(loose({ table: nonEmptyText(), rows: count(), digest: v.optional(text()) })),
  baseBackup: v.optional(text()),
  archiveCommand: v.optional(text()),
  restore: v.optional(
    loose({
      at: isoTime(),
      port: positive(),
      // Empty when the trainee restored by hand and named only the port (train NAME score --port P).
      dataDir: text(),
      pid: v.optional(positive()),
      lastCommitAt: v.optional(isoTime()),
      requested: text(),
    }),
  ),
  repairedAt: v.optional(isoTime()),
  objectives: loose({ rtoSeconds: seconds(), rpoSeconds: seconds() }),
  score: v.optional(
    loose({
      dataOk: flag(),
      dataDetail: text(),
      rtoSeconds: seconds(),
      rpoSeconds: seconds(),
      rtoObjectiveSeconds: seconds(),
      rpoObjectiveSeconds: seconds(),
      rtoOk: flag(),
      rpoOk: flag(),
      points: count(),
      verdict: text(),
      at: isoTime(),
    }),
  ),
});

/** The session in `file`, checked; it must be the session of `target` (the file's name). */
export function parseTrainingSession(raw: unknown, file: string, target: string): TrainingSession {
  const s: TrainingSession = parseWith(TrainingSessionSchema, checkFormat(raw, file, TRAINING_FORMAT), file);
  if (s.target !== target) throw damaged(file, `target is "${s.target}", but the file is named ${target}.json`);
  return s;
}
