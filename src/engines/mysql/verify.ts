import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import type { Target } from '../../config/target.js';
import type { Manifest } from '../../repo/manifest.js';
import type { EngineContext } from '../context.js';
import { BINLOG_INFO_FILES, CHECKPOINTS_FILES, INFO_FILES, isSealedStream, parseBinlogInfo, parseCheckpoints, parseInfoBinlogPos, PREPARED_TYPES } from './backup-info.js';
import { connectMysql } from './client.js';
import { quoteIdent } from './connection-args.js';
import { dumpCoordinates, parseDumpHead, parseDumpTail } from './dump-head.js';
import { readDump } from './sealed-dump.js';
import { BackupFiles } from '../../repo/backup-files.js';
import { repositoryIdentity } from '../../crypto/identity.js';
import { DUMP_FILE } from './logical-backup.js';
import { listTables } from './table-stats.js';

export interface CheckOutcome {
  method: string;
  ok: boolean;
  detail: string;
}

/**
 * Reads the whole dump once, as a restore would: it must end with the tool's "-- Dump completed"
 * line, carry in its head the binlog coordinates the manifest recorded, and hold a structure and a
 * data section for every table counted at backup time.
 */
export async function verifyDumpStructure(ctx: EngineContext, m: Manifest, dir: string): Promise<CheckOutcome> {
  const method = 'dump structure';
  const path = join(dir, DUMP_FILE);
  if (!existsSync(path)) return { method, ok: false, detail: `${DUMP_FILE} is missing` };
  // Encrypted and no identity: the ciphertext was checked against its sha256; the structure needs the key.
  if (BackupFiles.at(dir).encrypted && !repositoryIdentity()) {
    return { method, ok: true, detail: 'encrypted with age: the ciphertext matches its sha256; give --identity FILE to also read the dump\'s structure' };
  }
  const read = await readDump(dir, ctx.signal, { scan: m.database !== undefined ? { schema: m.database } : {} });
  const ends = read;
  const head = parseDumpHead(ends.head);
  const tail = parseDumpTail(ends.tail);
  const coords = dumpCoordinates(head, tail);
  const problems: string[] = [];
  if (!tail.completed) problems.push('no "-- Dump completed" line at the end (the dump was cut short)');
  const want = m.mysql;
  if (want?.binlogFile !== undefined && (coords.binlogFile !== want.binlogFile || coords.binlogPosition !== want.binlogPosition)) {
    problems.push(
      `the binlog coordinates in the dump (${coords.binlogFile ?? 'none'}:${coords.binlogPosition ?? '-'}) differ from the manifest's (${want.binlogFile}:${want.binlogPosition})`,
    );
  }
  const scan = read.scan!;
  const found = new Map(scan.tables.map((t) => [t.name, t]));
  const missing = (m.tables ?? []).map((t) => t.table).filter((t) => !found.get(t)?.structure || !found.get(t)?.data);
  if (missing.length > 0) problems.push(`no structure or data section for ${missing.join(', ')}`);
  if (problems.length > 0) return { method, ok: false, detail: problems.join('; ') };
  const at = coords.binlogFile !== undefined ? `, binlog ${coords.binlogFile}:${coords.binlogPosition}` : '';
  return {
    method,
    ok: true,
    detail: `${scan.tables.length} table(s) with structure and data${scan.views.length ? `, ${scan.views.length} view(s)` : ''}${at}, completed${tail.completedAt ? ` ${tail.completedAt}` : ''}`,
  };
}

/** A mariadb-backup directory must have been prepared and must name the manifest's binlog position. */
export function verifyPhysical(m: Manifest, dir: string): CheckOutcome {
  const method = 'mariadb-backup files';
  const base = join(dir, 'base');
  const cp = CHECKPOINTS_FILES.map((f) => join(base, f)).find((p) => existsSync(p));
  if (!cp) return { method, ok: false, detail: 'base/xtrabackup_checkpoints is missing' };
  const type = parseCheckpoints(readFileSync(cp, 'utf8')).backup_type ?? '(none)';
  if (isSealedStream(m)) return verifySealedPhysical(m, base, type);
  if (!PREPARED_TYPES.has(type)) {
    return { method, ok: false, detail: `backup_type is ${type}, not a prepared full backup (full-prepared or log-applied)` };
  }
  const info = BINLOG_INFO_FILES.map((f) => join(base, f)).find((p) => existsSync(p));
  if (m.mysql?.binlogFile !== undefined) {
    const got = info ? parseBinlogInfo(readFileSync(info, 'utf8')) : {};
    if (got.binlogFile !== m.mysql.binlogFile || got.binlogPosition !== m.mysql.binlogPosition) {
      return { method, ok: false, detail: `the binlog position in the backup (${got.binlogFile ?? 'none'}:${got.binlogPosition ?? '-'}) differs from the manifest's` };
    }
  }
  return { method, ok: true, detail: `backup_type = ${type}${m.mysql?.binlogFile ? `, binlog ${m.mysql.binlogFile}:${m.mysql.binlogPosition}` : ''}` };
}

/**
 * An encrypted mariadb-backup stream: copied (full-backuped), to be prepared where a restore
 * unpacks it; its binlog position is read from the plain xtrabackup_info beside it.
 */
function verifySealedPhysical(m: Manifest, base: string, type: string): CheckOutcome {
  const method = 'mariadb-backup files';
  if (type !== 'full-backuped') return { method, ok: false, detail: `backup_type is ${type}, not the full-backuped copy an encrypted stream holds` };
  const info = INFO_FILES.map((f) => join(base, f)).find((p) => existsSync(p));
  if (m.mysql?.binlogFile !== undefined) {
    const got = info ? parseInfoBinlogPos(readFileSync(info, 'utf8')) : {};
    if (got.binlogFile !== m.mysql.binlogFile || got.binlogPosition !== m.mysql.binlogPosition) {
      return { method, ok: false, detail: `the binlog position in xtrabackup_info (${got.binlogFile ?? 'none'}:${got.binlogPosition ?? '-'}) differs from the manifest's` };
    }
  }
  return { method, ok: true, detail: `encrypted xbstream, backup_type = ${type} (prepared when restored)${m.mysql?.binlogFile ? `, binlog ${m.mysql.binlogFile}:${m.mysql.binlogPosition}` : ''}` };
}

/** CHECK TABLE on every base table of a (restored) schema: the server reads each one back. */
export async function checkTables(target: Target, schema: string): Promise<CheckOutcome> {
  const method = 'CHECK TABLE';
  const conn = await connectMysql(target, { dbname: schema });
  try {
    const tables = await listTables(conn, schema);
    const bad: string[] = [];
    for (const t of tables) {
      const [rows] = await conn.query<mysql.RowDataPacket[]>(`CHECK TABLE ${quoteIdent(schema)}.${quoteIdent(t.name)}`);
      const errors = rows.filter((r) => String(r.Msg_type).toLowerCase() === 'error').map((r) => String(r.Msg_text));
      const status = rows.filter((r) => String(r.Msg_type).toLowerCase() === 'status').at(-1);
      if (errors.length > 0 || String(status?.Msg_text ?? '') !== 'OK') bad.push(`${t.name}: ${[...errors, status?.Msg_text ?? 'no status'].join(', ')}`);
    }
    return bad.length === 0
      ? { method, ok: true, detail: `${tables.length} table(s) OK` }
      : { method, ok: false, detail: bad.join('; ') };
  } finally {
    await conn.end().catch(() => {});
  }
}
