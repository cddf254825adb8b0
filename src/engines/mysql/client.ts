import mysql from 'mysql2/promise';
import type { Target } from '../../config/target.js';
import { resolvePassword } from '../../config/password.js';
import { DbdrillError } from '../../errors.js';
import { connectError } from '../connect-errors.js';

export const CONNECT_TIMEOUT_MS = 5000;

const AUTH_ERRORS = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR']);

/** Opens a MySQL/MariaDB connection with a hard deadline (see connectPostgres). */
export async function connectMysql(
  target: Target,
  opts: { dbname?: string | null; timeoutMs?: number } = {},
): Promise<mysql.Connection> {
  const timeoutMs = opts.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const database = opts.dbname === null ? undefined : (opts.dbname ?? (target.dbname || undefined));
  let timer: NodeJS.Timeout | undefined;
  try {
    // mysql2's connectTimeout covers the TCP handshake only; a peer that accepts and then says
    // nothing would hang the handshake, so the whole connect races a deadline.
    const conn = await Promise.race([
      mysql.createConnection({
        host: target.host,
        port: target.port,
        user: target.user,
        password: resolvePassword(target),
        database,
        connectTimeout: timeoutMs,
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), timeoutMs + 500);
      }),
    ]);
    conn.on('error', () => {});
    return conn;
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code === 'ER_BAD_DB_ERROR') {
      throw new DbdrillError('invalid-input', `Database "${database}" does not exist on ${target.host}:${target.port}; fix the target's --dbname.`, { target: target.name });
    }
    throw connectError(target, e, timeoutMs, AUTH_ERRORS.has(code));
  } finally {
    if (timer) clearTimeout(timer);
  }
}
