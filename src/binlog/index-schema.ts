import * as v from 'valibot';
import { count, isoTime, list, loose, parseWith, sha256Hex, text } from '../util/schema.js';
import { checkFormat, damaged, type FileFormat } from '../util/untrusted-file.js';
import { parseBinlogFileName } from './names.js';

/**
 * <repo>/binlog/index.json as read back. Its checksums are what verification compares archived
 * binlogs with, so a damaged index is refused with the field named, never silently replaced by
 * checksums of the files as they are now.
 */
export const BINLOG_INDEX_FORMAT: FileFormat = { what: 'a dbdrill binlog index', format: 'dbdrill-binlog-index', versionKey: 'formatVersion', version: 1 };

export const BinlogIndexSchema = loose({
  format: v.literal('dbdrill-binlog-index'),
  formatVersion: v.literal(1),
  files: list(
    loose({
      file: v.pipe(text(), v.check((n) => parseBinlogFileName(n) !== undefined, 'must be a binlog file name like mysql-bin.000042')),
      size: count(),
      sha256: v.optional(sha256Hex()),
      firstEventAt: v.optional(isoTime()),
      lastEventAt: v.optional(isoTime()),
      lastChangeAt: v.optional(isoTime()),
      transactions: count(),
      serverId: v.optional(count()),
      serverVersion: v.optional(text()),
      archivedAt: v.optional(isoTime()),
      plain: v.optional(loose({ bytes: count(), sha256: sha256Hex() })),
      problem: v.optional(text()),
    }),
  ),
});

/** The index in `file`, checked (its type is checked against BinlogIndex where archive.ts reads it). */
export function parseBinlogIndex(raw: unknown, file: string): v.InferOutput<typeof BinlogIndexSchema> {
  const idx = parseWith(BinlogIndexSchema, checkFormat(raw, file, BINLOG_INDEX_FORMAT), file);
  const seen = new Set<string>();
  for (const [i, f] of idx.files.entries()) {
    if (seen.has(f.file)) throw damaged(file, `files[${i}].file names ${f.file} a second time`);
    seen.add(f.file);
  }
  return idx;
}
