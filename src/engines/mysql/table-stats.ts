import type mysql from 'mysql2/promise';
import type { TableStat } from '../../repo/manifest.js';
import { quoteIdent } from './connection-args.js';

/** A table and its columns in ordinal order, as listed (inside the snapshot) before counting. */
export interface TablePlan {
  name: string;
  columns: string[];
}

/**
 * Row count and an order-independent digest of one table. Each row becomes an unambiguous text
 * (QUOTE gives NULL as the bare word NULL and every value quoted and escaped; CAST AS BINARY keeps
 * columns of different character sets from clashing in CONCAT_WS), hashed with MD5, of which the
 * first 64 bits are summed as an exact DECIMAL. Unlike BIT_XOR, a sum does not cancel duplicate
 * rows. The query streams; it needs no sort and no memory per row.
 */
export function digestSql(schema: string, table: TablePlan): string {
  const cols = table.columns.map((c) => `QUOTE(CAST(${quoteIdent(c)} AS BINARY))`).join(', ');
  return (
    `SELECT COUNT(*) AS n, ` +
    `COALESCE(SUM(CAST(CONV(LEFT(MD5(CONCAT_WS(',', ${cols})), 16), 16, 10) AS UNSIGNED)), 0) AS d ` +
    `FROM ${quoteIdent(schema)}.${quoteIdent(table.name)}`
  );
}

/**
 * Base tables of a schema and their columns. MariaDB's system-versioned tables are base tables
 * too (their current rows are what a dump holds); sequences and views are not counted.
 */
export async function listTables(conn: mysql.Connection, schema: string): Promise<TablePlan[]> {
  const [tables] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT TABLE_NAME AS name FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME`,
    [schema],
  );
  const [cols] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [schema],
  );
  const byTable = new Map<string, string[]>();
  for (const r of cols) {
    const list = byTable.get(String(r.t)) ?? [];
    list.push(String(r.c));
    byTable.set(String(r.t), list);
  }
  return tables.map((t) => ({ name: String(t.name), columns: byTable.get(String(t.name)) ?? [] }));
}

/**
 * Session settings that make the row text independent of the connection: TIMESTAMP values are
 * shown in the session's zone, so both the backup's and the restore's counts use UTC.
 */
export async function prepareStatsSession(conn: mysql.Connection): Promise<void> {
  await conn.query("SET SESSION time_zone = '+00:00'");
}

/**
 * Counts and digests `plan` through `conn` (which may sit in a consistent snapshot). Table names
 * are recorded without the schema: a restore loads them into a schema of another name.
 */
export async function tableStats(conn: mysql.Connection, schema: string, plan: TablePlan[]): Promise<TableStat[]> {
  const out: TableStat[] = [];
  for (const t of plan) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(digestSql(schema, t));
    out.push({ table: t.name, rows: Number(rows[0]!.n), digest: String(rows[0]!.d) });
  }
  return out;
}
