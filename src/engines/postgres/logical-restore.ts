import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import type { Target } from '../../config/target.js';
import { DbdrillError, invalid } from '../../errors.js';
import { BackupFiles, CorruptBackupError } from '../../repo/backup-files.js';
import type { Manifest, TableStat } from '../../repo/manifest.js';
import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';
import type { EngineContext } from '../context.js';
import { forwardToolEvents } from '../tool-events.js';
import { connectPostgres } from './client.js';
import { pgConnArgs, pgSecret } from './connection-args.js';
import { quoteIdent, tableStats } from './table-stats.js';

export interface LogicalRestoreOptions {
  dbname: string;
  /** schema.table or table (public) */
  table?: string;
  jobs?: number;
}

export function dumpPathOf(m: Manifest, dir: string): string {
  return join(dir, m.format === 'pg_dump-directory' ? 'dump' : 'dump.pgdump');
}

export function splitTable(name: string): { schema: string; table: string } {
  const i = name.indexOf('.');
  return i < 0 ? { schema: 'public', table: name } : { schema: name.slice(0, i), table: name.slice(i + 1) };
}

/**
 * pg_restore into a database that does not exist yet, created here from template0. It never
 * writes into an existing database: replacing live data is a separate, explicit step. If the
 * restore fails, the half-filled database it created is dropped (it held nothing before).
 */
export async function pgLogicalRestore(ctx: EngineContext, target: Target, m: Manifest, dir: string, opts: LogicalRestoreOptions): Promise<TableStat[]> {
  const only = opts.table ? splitTable(opts.table) : undefined;
  if (only && m.tables && !m.tables.some((t) => t.table === `${only.schema}.${only.table}`)) {
    throw invalid(`Backup ${m.id} has no table ${only.schema}.${only.table}; the tables it holds are: ${m.tables.map((t) => t.table).join(', ')}.`);
  }
  const files = BackupFiles.at(dir).needKey();
  // An encrypted dump reaches pg_restore only as a decrypted stream, which one job reads.
  if (files.encrypted && opts.jobs && opts.jobs > 1) ctx.emit({ type: 'log', level: 'warn', text: `backup ${m.id} is encrypted: pg_restore reads it as one decrypted stream, so --jobs ${opts.jobs} is not used` });
  const jobs = opts.jobs && opts.jobs > 1 && !files.encrypted ? opts.jobs : undefined;
  const dump = dumpPathOf(m, dir);
  const rel = relative(dir, dump);
  // A custom-format file restored by one job is read front to back, so pg_restore takes it on
  // stdin from a stream checked against its sha256 as it goes. A directory dump, or --jobs, needs
  // files pg_restore opens and seeks itself: those are checked in one pass before anything is created.
  const streamed = m.format !== 'pg_dump-directory' && jobs === undefined;

  const admin = await connectPostgres(target);
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.dbname]);
    if (rowCount) {
      throw invalid(
        `Database "${opts.dbname}" already exists on ${target.host}:${target.port}; a restore never writes into an existing database, so choose a new --dbname.`,
      );
    }
    if (!streamed) {
      await ctx.step('check backup files', () => files.check((f) => f === rel || f.startsWith(`${rel}/`), ctx.signal, `before creating the database "${opts.dbname}"`));
    }
    await ctx.step(`create database ${opts.dbname}`, () => admin.query(`CREATE DATABASE ${quoteIdent(opts.dbname)} TEMPLATE template0`));
  } finally {
    await admin.end().catch(() => {});
  }

  const tool = await findTool('pg_restore', { serverMajor: Number(m.serverVersion.split('.')[0]), serverVersion: m.serverVersion });
  const args = [
    ...pgConnArgs(target),
    '--dbname', opts.dbname,
    '--exit-on-error',
    ...(jobs ? ['--jobs', String(jobs)] : []),
    ...(only ? ['--schema', only.schema, '--table', only.table] : []),
    ...(streamed ? ['--format', 'custom'] : [dump]),
  ];
  const run = (stdin?: { stream: Readable }) => runTool({ tool, args, secret: pgSecret(target), signal: ctx.signal, onEvent: forwardToolEvents(ctx), ...(stdin ? { stdin } : {}) });
  try {
    await ctx.step('pg_restore', () =>
      streamed ? files.read(rel, ctx.signal, `and left the partial database "${opts.dbname}" for inspection`, (stream) => run({ stream })) : run(),
    );
  } catch (e) {
    // What a corrupt backup loaded stays for inspection (the sentence names it); any other failure leaves nothing.
    if (!(e instanceof CorruptBackupError)) await dropCreated(target, opts.dbname);
    throw e;
  }

  const client = await connectPostgres(target, { dbname: opts.dbname });
  try {
    return await ctx.step('count rows', () => tableStats(client, only ? { only: [`${only.schema}.${only.table}`] } : {}));
  } finally {
    await client.end().catch(() => {});
  }
}

async function dropCreated(target: Target, dbname: string): Promise<void> {
  try {
    const c = await connectPostgres(target);
    try {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbname)} WITH (FORCE)`);
    } finally {
      await c.end().catch(() => {});
    }
  } catch (e) {
    throw new DbdrillError('failed', `The restore failed and the database "${dbname}" it created could not be dropped (${(e as Error).message}); drop it by hand.`);
  }
}
