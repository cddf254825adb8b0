/**
 * Pieces of a dbdrill backup re-created outside it, so the backup bench can time each addition on
 * its own: the pgbench load, the row counts and digests, and a raw pg_dump that shares an exported
 * snapshot with a scan beside it (what src/engines/postgres/logical-backup.ts does).
 */
import pg from 'pg';
import { quoteIdent, tableStats } from '../src/engines/postgres/table-stats.js';
import { findTool } from '../src/runner/tools.js';
import type { SandboxInstance } from '../src/sandbox/index.js';
import { mb, mustRun, note, secs, timeIt } from './util.js';

export type Scan = 'digests' | 'counts';

function client(s: SandboxInstance, database: string): pg.Client {
  const c = new pg.Client({ host: s.host, port: s.port, user: s.user, password: s.password, database });
  c.on('error', () => undefined);
  return c;
}

/** How the client tools (pgbench, pg_dump, psql…) reach the sandbox: its password in the environment, never in argv. */
export function toolAccess(s: SandboxInstance): { env: NodeJS.ProcessEnv; conn: string[] } {
  return { env: { ...process.env, PGPASSWORD: s.password }, conn: ['--host', s.host, '--port', String(s.port), '--username', s.user, '--no-password'] };
}

/** CREATE DATABASE and pgbench -i -s SCALE; prints the load time and the database size. */
export async function loadPgbench(s: SandboxInstance, db: string, scale: number, env: NodeJS.ProcessEnv, conn: string[]): Promise<void> {
  const c = client(s, 'postgres');
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${quoteIdent(db)}`);
    const pgbench = (await findTool('pgbench')).path;
    const r = await mustRun(pgbench, ['-i', '-q', '-s', String(scale), ...conn.filter((a) => a !== '--no-password'), db], { env });
    const { rows } = await c.query<{ size: string }>('SELECT pg_database_size($1)::text AS size', [db]);
    note(`pgbench -i -s ${scale}: ${secs(r.ms)}, database ${mb(Number(rows[0]!.size))}`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The scan dbdrill runs beside pg_dump: tableStats (count + digest), or plain count(*) per table. */
async function scan(c: pg.Client, what: Scan): Promise<{ tables: number; rows: number }> {
  if (what === 'digests') {
    const stats = await tableStats(c);
    return { tables: stats.length, rows: stats.reduce((n, x) => n + x.rows, 0) };
  }
  const { rows: tables } = await c.query<{ t: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  let total = 0;
  for (const t of tables) total += Number((await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ONLY ${t.t}`)).rows[0]!.n);
  return { tables: tables.length, rows: total };
}

/** A scan alone, in a repeatable-read snapshot as dbdrill takes it. */
export async function timeScan(s: SandboxInstance, db: string, what: Scan): Promise<{ ms: number; tables: number; rows: number }> {
  const c = client(s, db);
  await c.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const t = await timeIt(() => scan(c, what));
    await c.query('ROLLBACK');
    return { ms: t.ms, ...t.value };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** pg_dump on an exported snapshot with a scan running beside it; wall time of both. */
export async function dumpBeside(s: SandboxInstance, db: string, pgDump: string, args: string[], env: NodeJS.ProcessEnv, what: Scan): Promise<number> {
  const c = client(s, db);
  await c.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await c.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
    const t = await timeIt(() => Promise.all([mustRun(pgDump, [...args, '--snapshot', snapshot], { env }), scan(c, what)]));
    await c.query('ROLLBACK');
    return t.ms;
  } finally {
    await c.end().catch(() => undefined);
  }
}
