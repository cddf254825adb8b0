import * as v from 'valibot';
import { parseBinlogFileName } from '../binlog/names.js';
import { ENGINES } from '../config/target.js';
import { SEGMENT_RE } from '../pitr/wal-names.js';
import { count, flag, innerPath, isoTime, list, loose, nonEmptyText, oneOf, parseWith, positive, sha256Hex, text } from '../util/schema.js';
import { checkFormat, damaged, type FileFormat } from '../util/untrusted-file.js';
import { ID_RE, type BackupStatus, type Manifest } from './manifest.js';

/**
 * What a manifest read from a repository must hold before any code relies on it. Fields added by
 * later versions pass through (and survive a rewrite, e.g. a verification appended); the ones
 * listed here are checked for type and form, so a hand-edited manifest is refused with the field
 * named instead of surfacing as a TypeError or, worse, a restore from the wrong place.
 */
export const MANIFEST_FORMAT: FileFormat = { what: 'a dbdrill backup manifest', versionKey: 'formatVersion', version: 1 };

const lsn = () => v.pipe(text(), v.regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i, 'must be an LSN like 0/3000028'));
const segment = () => v.pipe(text(), v.regex(SEGMENT_RE, 'must be a WAL segment name (24 hex digits)'));
const innodbLsn = () => v.pipe(text(), v.regex(/^\d{1,20}$/, 'must be an InnoDB LSN (decimal digits)'));
const binlogName = () => v.pipe(text(), v.check((n) => parseBinlogFileName(n) !== undefined, 'must be a binlog file name like mysql-bin.000042'));

/**
 * Statuses a manifest may carry: every BackupStatus. 'expiring' (prune has started removing it)
 * must be read, never listed as unreadable, so a prune killed half-way is finished by the next.
 */
export const MANIFEST_STATUSES = ['running', 'complete', 'failed', 'corrupt', 'expiring'] as const satisfies readonly BackupStatus[];

export const ManifestSchema = loose({
  formatVersion: v.literal(1),
  id: v.pipe(text(), v.regex(ID_RE, 'must be a backup id like 20261124T143000Z-F')),
  target: nonEmptyText(),
  engine: oneOf(ENGINES),
  kind: oneOf(['logical', 'physical'] as const),
  type: oneOf(['full', 'diff', 'incr'] as const),
  status: v.pipe(oneOf(MANIFEST_STATUSES), v.transform((s) => s as BackupStatus)),
  tool: loose({ name: text(), version: text(), argv: list(text()) }),
  serverVersion: text(),
  startedAt: isoTime(),
  finishedAt: v.optional(isoTime()),
  sizeBytes: count(),
  files: list(loose({ path: innerPath(), bytes: count(), sha256: sha256Hex(), plain: v.optional(loose({ bytes: count(), sha256: sha256Hex() })) })),
  encryption: v.optional(loose({ with: v.literal('age'), recipients: list(text()) })),
  prior: v.optional(v.pipe(text(), v.regex(ID_RE, 'must be a backup id like 20261124T143000Z-F'))),
  format: v.optional(text()),
  database: v.optional(text()),
  postgres: v.optional(
    loose({
      systemId: v.optional(text()),
      startLsn: v.optional(lsn()),
      stopLsn: v.optional(lsn()),
      timeline: v.optional(positive()),
      walStart: v.optional(segment()),
      walEnd: v.optional(segment()),
      consistentAt: v.optional(isoTime()),
    }),
  ),
  mysql: v.optional(
    loose({
      binlogFile: v.optional(binlogName()),
      binlogPosition: v.optional(count()),
      gtid: v.optional(text()),
      consistentAt: v.optional(isoTime()),
      fromLsn: v.optional(innodbLsn()),
      toLsn: v.optional(innodbLsn()),
      lastLsn: v.optional(innodbLsn()),
    }),
  ),
  tables: v.optional(list(loose({ table: nonEmptyText(), rows: count(), digest: v.optional(text()) }))),
  error: v.optional(text()),
  verification: v.optional(list(loose({ at: isoTime(), method: text(), ok: flag(), detail: text() }))),
  owner: v.optional(loose({ pid: positive(), host: text(), startedAt: isoTime(), processStart: v.optional(text()) })),
});

/**
 * The manifest in `file`, checked; `dirId` is the directory it lies in, which must be its id (a
 * manifest copied from another backup would otherwise send verify and restore to that one's files).
 */
export function parseManifest(raw: unknown, file: string, dirId: string): Manifest {
  const m: Manifest = parseWith(ManifestSchema, checkFormat(raw, file, MANIFEST_FORMAT), file);
  if (m.id !== dirId) throw damaged(file, `id is "${m.id}", but the manifest lies in backups/${dirId}`);
  return m;
}
