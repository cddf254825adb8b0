import { join } from 'node:path';
import type { Target } from '../../config/target.js';
import { DbdrillError, invalid } from '../../errors.js';
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
  const admin = await connectPostgres(target);
  const only = opts.table ? splitTable(opts.table) : undefined;
  if (only && m.tables && !m.tables.some((t) => t.table === `${only.schema}.${only.table}`)) {
    await admin.end().catch(() => {});
    throw invalid(`Backup ${m.id} has no table ${only.schema}.${only.table}; the tables it holds are: ${m.tables.map((t) => t.table).join(', ')}.`);
  }
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.dbname]);
    if (rowCount) {
      throw invalid(
        `Database "${opts.dbname}" already exists on ${target.host}:${target.port}; a restore never writes into an existing database, so choose a new --dbname.`,
      );
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
    ...(opts.jobs && opts.jobs > 1 ? ['--jobs', String(opts.jobs)] : []),
    ...(only ? ['--schema', only.schema, '--table', only.table] : []),
    dumpPathOf(m, dir),
  ];
  try {
    await ctx.step('pg_restore', () => runTool({ tool, args, secret: pgSecret(target), signal: ctx.signal, onEvent: forwardToolEvents(ctx) }));
  } catch (e) {
    await dropCreated(target, opts.dbname);
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
