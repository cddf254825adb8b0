import mysql from 'mysql2/promise';
import pg from 'pg';
import { inject } from 'vitest';
import type { SandboxInfo } from '../../src/sandbox/index.js';

/**
 * The suite's shared servers, started once by test/global-setup.ts. Tests may add tables and
 * rows (use names of their own) but must not stop, reconfigure or break these instances.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    /** PostgreSQL 15 with WAL archiving into archiveDir and the shop sample. */
    pg: SandboxInfo;
    /** MariaDB with binary logs and the shop sample. */
    mysql: SandboxInfo;
    /** This run's parent directory of every sandbox (DBDRILL_SANDBOX_PARENT). */
    sandboxRunDir: string;
  }
}

export function sharedPostgres(): SandboxInfo {
  return inject('pg');
}

export function sharedMariadb(): SandboxInfo {
  return inject('mysql');
}

export function sandboxRunDir(): string {
  return inject('sandboxRunDir');
}

/** Connects to a PostgreSQL sandbox over TCP with its password; always closes the client. */
export async function withPg<T>(
  info: SandboxInfo,
  fn: (client: pg.Client) => Promise<T>,
  overrides: Partial<pg.ClientConfig> = {},
): Promise<T> {
  const client = new pg.Client({
    host: info.host,
    port: info.port,
    user: info.user,
    password: info.password,
    database: info.dbname,
    ...overrides,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Connects to a MariaDB sandbox over TCP as the dbdrill user; always closes the connection. */
export async function withMysql<T>(
  info: SandboxInfo,
  fn: (conn: mysql.Connection) => Promise<T>,
  overrides: Partial<mysql.ConnectionOptions> = {},
): Promise<T> {
  const conn = await mysql.createConnection({
    host: info.host,
    port: info.port,
    user: info.user,
    password: info.password,
    database: info.dbname,
    ...overrides,
  });
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}
