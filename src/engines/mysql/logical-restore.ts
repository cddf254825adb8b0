import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type mysql from 'mysql2/promise';
import type { Target } from '../../config/target.js';
import { DbdrillError, invalid } from '../../errors.js';
import { BackupFiles } from '../../repo/backup-files.js';
import type { Manifest, TableStat } from '../../repo/manifest.js';
import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';
import type { EngineContext } from '../context.js';
import { forwardToolEvents } from '../tool-events.js';
import { connectMysql } from './client.js';
import { myConnArgs, mySecret, quoteIdent } from './connection-args.js';
import { charsetClause, readDatabaseFile } from './database-file.js';
import { DumpScanner, filterDump, filterDumpStream, LineSplitter, type DumpScan } from './dump-sections.js';
import { DUMP_FILE } from './logical-backup.js';
import { listTables, prepareStatsSession, tableStats } from './table-stats.js';

export interface MyRestoreOptions {
  /** The new schema. */
  dbname: string;
  /** Restore only this table (its structure, rows and triggers). */
  table?: string;
}

async function schemaExists(conn: mysql.Connection, name: string): Promise<boolean> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
  return rows.length > 0;
}

function existsError(target: Target, dbname: string): DbdrillError {
  return invalid(`Schema "${dbname}" already exists on ${target.host}:${target.port}; a restore never writes into an existing schema, so choose a new --dbname.`);
}

/**
 * Loads a dump into a schema that does not exist yet, created here with the source's character
 * set. The dump names no schema (it was taken without --databases), so the mariadb client loads it
 * into whichever schema it is pointed at. Before that, what would let the copy reach beyond itself
 * is rewritten: the dump's ALTER DATABASE lines around triggers and routines name the source
 * schema, and its events would start running (possibly writing elsewhere) once created, so they are
 * created DISABLED. With --table only the head and that table's sections are kept. Each of these
 * needs a filtered copy of the dump, made in a private directory next to the repository's backups
 * and removed afterwards; a dump that needs none is fed to the client as it is. If loading fails,
 * the schema this restore created is dropped again (it held nothing before).
 */
export async function myLogicalRestore(ctx: EngineContext, target: Target, m: Manifest, dir: string, opts: MyRestoreOptions): Promise<TableStat[]> {
  const dump = join(dir, DUMP_FILE);
  const info = readDatabaseFile(dir);
  const source = m.database ?? info?.name;
  if (opts.table && m.tables && !m.tables.some((t) => t.table === opts.table)) {
    throw invalid(`Backup ${m.id} has no table ${opts.table}; the tables it holds are: ${m.tables.map((t) => t.table).join(', ')}.`);
  }
  // An encrypted dump without the identity stops here, before anything is created.
  const files = BackupFiles.at(dir).needKey();
  const admin = await connectMysql(target, { dbname: null });
  try {
    if (await schemaExists(admin, opts.dbname)) throw existsError(target, opts.dbname);
  } finally {
    await admin.end().catch(() => {});
  }

  // The scan is the restore's first read of the whole dump and comes before anything is created,
  // so the dump's sha256 is proven on it: a damaged dump stops here, named and marked corrupt,
  // with no schema made. The load below reads the proven file again (or a filtered copy of it).
  const scan = await ctx.step('read dump', () =>
    files.read(DUMP_FILE, ctx.signal, `before creating the schema "${opts.dbname}"`, (stream) => scanDumpStream(stream, source)),
  );
  if (!scan.completed) {
    throw invalid(`The dump of backup ${m.id} ends early (no "-- Dump completed" line); run dbdrill verify ${m.target} --backup ${m.id} and restore another backup.`);
  }
  if (opts.table && !scan.tables.some((t) => t.name === opts.table)) {
    throw invalid(`Backup ${m.id} has no table ${opts.table}; the tables it holds are: ${scan.tables.map((t) => t.name).join(', ')}.`);
  }

  const create = await connectMysql(target, { dbname: null });
  try {
    await ctx.step(`create schema ${opts.dbname}`, () => create.query(`CREATE DATABASE ${quoteIdent(opts.dbname)}${charsetClause(info)}`));
  } catch (e) {
    // Created by someone else since the check above: still not ours to write into.
    if ((e as { code?: string }).code === 'ER_DB_CREATE_EXISTS') throw existsError(target, opts.dbname);
    throw e;
  } finally {
    await create.end().catch(() => {});
  }

  let scratch: string | undefined;
  try {
    let input = dump;
    const rename = source !== undefined && source !== opts.dbname && scan.alterSchemaLines > 0;
    const disableEvents = !opts.table && scan.enabledEvents > 0;
    const filterOpts = { ...(opts.table ? { table: opts.table } : {}), ...(rename ? { renameSchema: { from: source, to: opts.dbname } } : {}), disableEvents };
    if (files.encrypted) {
      // Decrypted (and checked again) as a stream, filtered on its way into the client: no copy on disk.
      await ctx.step('load dump', () =>
        files.read(DUMP_FILE, ctx.signal, `while loading it into the schema "${opts.dbname}"`, async (stream) => {
          const { output, filter } = filterDumpStream(stream, filterOpts);
          await loadInto(ctx, target, opts.dbname, { stream: output });
          warnDisabled(ctx, opts.dbname, filter.eventsDisabled);
        }),
      );
    } else if (opts.table || rename || disableEvents) {
      // Same filesystem as the backups (room for a copy is likelier there than in /tmp); 0700.
      scratch = mkdtempSync(join(dirname(dirname(dir)), '.restore-'));
      input = join(scratch, 'restore.sql');
      const dest = input;
      const filtered = await ctx.step(opts.table ? `extract table ${opts.table}` : 'prepare dump for a new schema', () =>
        filterDump(dump, dest, filterOpts, ctx.signal),
      );
      warnDisabled(ctx, opts.dbname, filtered.eventsDisabled);
    }
    if (!files.encrypted) await ctx.step('load dump', () => loadInto(ctx, target, opts.dbname, { file: input }));
  } catch (e) {
    await dropCreated(target, opts.dbname);
    throw e;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }

  return restoredStats(ctx, target, opts.dbname, opts.table);
}

async function loadInto(ctx: EngineContext, target: Target, dbname: string, stdin: { file: string } | { stream: Readable }): Promise<void> {
  const client = await findTool(['mariadb', 'mysql']);
  const args = [...myConnArgs(target), '--binary-mode', '--max-allowed-packet=1G', `--database=${dbname}`];
  await runTool({ tool: client, args, secret: mySecret(target), stdin, signal: ctx.signal, onEvent: forwardToolEvents(ctx) });
}

function warnDisabled(ctx: EngineContext, dbname: string, n: number): void {
  if (n === 0) return;
  ctx.emit({
    type: 'log',
    level: 'warn',
    text: `${n} event(s) restored DISABLED so the copy cannot act on its own; enable one with ALTER EVENT ${quoteIdent(dbname)}.name ENABLE`,
  });
}

async function scanDumpStream(stream: Readable, schema: string | undefined): Promise<DumpScan> {
  const scanner = new DumpScanner(schema);
  const lines = new LineSplitter(scanner);
  for await (const chunk of stream) lines.push(chunk as Buffer);
  lines.end();
  return scanner.result();
}

/** Counts and digests the restored tables the same way the backup did. */
export async function restoredStats(ctx: EngineContext, target: Target, dbname: string, only?: string): Promise<TableStat[]> {
  const conn = await connectMysql(target, { dbname });
  try {
    await prepareStatsSession(conn);
    const plan = (await listTables(conn, dbname)).filter((t) => only === undefined || t.name === only);
    return await ctx.step('count rows', () => tableStats(conn, dbname, plan));
  } finally {
    await conn.end().catch(() => {});
  }
}

async function dropCreated(target: Target, dbname: string): Promise<void> {
  try {
    const c = await connectMysql(target, { dbname: null });
    try {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbname)}`);
    } finally {
      await c.end().catch(() => {});
    }
  } catch (e) {
    throw new DbdrillError('failed', `The restore failed and the schema "${dbname}" it created could not be dropped (${(e as Error).message}); drop it by hand.`);
  }
}
