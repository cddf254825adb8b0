import pg from 'pg';
import type { Target } from '../../config/target.js';
import { resolvePassword } from '../../config/password.js';
import { DbdrillError } from '../../errors.js';
import { connectError } from '../connect-errors.js';

export const CONNECT_TIMEOUT_MS = 5000;

/**
 * Opens a connection to a PostgreSQL target with a hard deadline, so an address that swallows
 * packets yields a sentence within seconds instead of a hang.
 */
export async function connectPostgres(
  target: Target,
  opts: { dbname?: string; timeoutMs?: number } = {},
): Promise<pg.Client> {
  const timeoutMs = opts.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: target.user,
    database: opts.dbname ?? target.dbname,
    password: resolvePassword(target),
    connectionTimeoutMillis: timeoutMs,
    application_name: 'dbdrill',
  });
  // A connection that drops later emits 'error' on the client; without a listener Node would crash.
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (e) {
    await client.end().catch(() => {});
    const code = (e as { code?: string }).code;
    if (code === '3D000') {
      throw new DbdrillError('invalid-input', `Database "${opts.dbname ?? target.dbname}" does not exist on ${target.host}:${target.port}; fix the target's --dbname.`, { target: target.name });
    }
    throw connectError(target, e, timeoutMs, code === '28P01' || code === '28000');
  }
}
