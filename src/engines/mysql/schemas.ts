import type mysql from 'mysql2/promise';
import type { Target } from '../../config/target.js';
import { connectMysql } from './client.js';

/** Schemas every server has of its own; a restore's checks look at the others. */
export const SYSTEM_SCHEMAS = new Set(['mysql', 'sys', 'performance_schema', 'information_schema']);

async function schemaNames(target: Target): Promise<string[]> {
  const conn = await connectMysql(target, { dbname: null });
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME');
    return rows.map((r) => String(r.s));
  } finally {
    await conn.end().catch(() => {});
  }
}

export async function schemaExists(target: Target, schema: string): Promise<boolean> {
  return (await schemaNames(target)).includes(schema);
}

/** The server's schemas other than its system ones, by name. */
export async function userSchemas(target: Target): Promise<string[]> {
  return (await schemaNames(target)).filter((s) => !SYSTEM_SCHEMAS.has(s.toLowerCase()));
}
