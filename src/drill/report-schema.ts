import * as v from 'valibot';
import type { StepStatus } from '../engines/context.js';
import { count, flag, isoTime, list, loose, nonEmptyText, oneOf, parseWith, positive, seconds, text } from '../util/schema.js';
import { checkFormat, damaged, describeValue, type FileFormat } from '../util/untrusted-file.js';
import type { DrillReport } from './report.js';

/** <repo>/drills/<id>.json as read back by the drill history and drill-report. */
export const DRILL_REPORT_FORMAT: FileFormat = { what: 'a dbdrill drill report', versionKey: 'formatVersion', version: 1 };

// Records, so that a status added to the type without being added here fails to compile.
const STEP_STATUS: Record<StepStatus, true> = { pending: true, running: true, done: true, failed: true, skipped: true };
const DRILL_STATUS: Record<DrillReport['status'], true> = { running: true, passed: true, failed: true, aborted: true };
const keys = <K extends string>(r: Record<K, true>) => Object.keys(r) as K[];

/** A measured time: NaN (nothing to measure against) was stored as null by JSON. */
const measured = () =>
  v.pipe(
    v.nullable(v.number((i) => `must be a number, not ${describeValue(i.input)}`)),
    v.transform((n) => n ?? Number.NaN),
  );
const port = () => v.pipe(positive(), v.maxValue(65535, (i) => `must be a port from 1 to 65535, not ${describeValue(i.input)}`));

export const DrillReportSchema = loose({
  formatVersion: v.literal(1),
  id: v.pipe(text(), v.regex(/^\d{8}T\d{6}Z(-\d+)?$/, 'must be a drill id like 20261124T143000Z')),
  target: nonEmptyText(),
  engine: text(),
  status: oneOf(keys(DRILL_STATUS)),
  startedAt: isoTime(),
  finishedAt: v.optional(isoTime()),
  requested: text(),
  backup: v.optional(text()),
  kind: v.optional(oneOf(['logical', 'physical'] as const)),
  steps: list(
    loose({
      name: nonEmptyText(),
      status: oneOf(keys(STEP_STATUS)),
      startedAt: v.optional(isoTime()),
      finishedAt: v.optional(isoTime()),
      seconds: v.optional(seconds()),
      bytes: v.optional(count()),
      detail: v.optional(text()),
    }),
  ),
  checks: list(loose({ name: text(), ok: flag(), detail: text(), expected: v.optional(text()), actual: v.optional(text()) })),
  notes: v.optional(list(text())),
  rto: v.optional(
    loose({ seconds: measured(), transferSeconds: measured(), replaySeconds: measured(), applySeconds: v.optional(measured()), objectiveSeconds: v.optional(seconds()), ok: v.optional(flag()) }),
  ),
  rpo: v.optional(
    loose({ seconds: measured(), lastCommitAt: v.optional(isoTime()), reference: text(), objectiveSeconds: v.optional(seconds()), ok: v.optional(flag()) }),
  ),
  failedStep: v.optional(text()),
  error: v.optional(text()),
  scratch: v.optional(loose({ dir: nonEmptyText(), dataDir: nonEmptyText(), port: port() })),
  kept: v.optional(loose({ dataDir: nonEmptyText(), port: port() })),
  from: v.optional(loose({ copy: nonEmptyText(), files: count(), bytes: count(), seconds: seconds() })),
});

/** The report in `file`, checked; `fileId` is its file name without .json, which must be its id. */
export function parseDrillReport(raw: unknown, file: string, fileId: string): DrillReport {
  const r: DrillReport = parseWith(DrillReportSchema, checkFormat(raw, file, DRILL_REPORT_FORMAT), file);
  if (r.id !== fileId) throw damaged(file, `id is "${r.id}", but the file is named ${fileId}.json`);
  return r;
}
