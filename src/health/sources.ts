import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import type { Target } from '../config/target.js';
import { connectMysql } from '../engines/mysql/client.js';
import { connectPostgres } from '../engines/postgres/client.js';
import { DbdrillError, isDbdrillError } from '../errors.js';
import { sampleMysql, type MysqlSample } from './mysql-sample.js';
import { samplePostgres, type PgSample } from './pg-sample.js';
import { localDiskOf } from './local-disk.js';

/**
 * A server being sampled over one kept-open connection: connecting (SCRAM, TLS) costs far more
 * than the sample's one query, and the console samples every second. A connection that breaks or
 * a query that hangs is dropped and the next sample connects again.
 */
export interface SampleSource<S> {
  sample(): Promise<S>;
  close(): Promise<void>;
}

export const QUERY_TIMEOUT_MS = 10_000;

function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => DbdrillError): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function kept<C, S>(
  target: Target,
  connect: () => Promise<C>,
  end: (c: C) => Promise<void>,
  run: (c: C) => Promise<S>,
  timeoutMs: number,
): SampleSource<S> {
  let conn: C | undefined;
  return {
    async sample() {
      conn ??= await connect();
      const c = conn;
      try {
        return await withDeadline(run(c), timeoutMs, () =>
          new DbdrillError('unreachable', `${target.host}:${target.port} did not answer the health query within ${Math.round(timeoutMs / 1000)} s; check the server's load and the network.`, { target: target.name }),
        );
      } catch (e) {
        // A missing privilege keeps the connection (the next sample fails the same way, cheaply);
        // anything else may have broken it, so start afresh.
        if (!(isDbdrillError(e) && e.code === 'invalid-input')) {
          conn = undefined;
          void end(c).catch(() => {});
        }
        throw e;
      }
    },
    async close() {
      const c = conn;
      conn = undefined;
      if (c !== undefined) await end(c).catch(() => {});
    },
  };
}

export function postgresSource(target: Target, timeoutMs = QUERY_TIMEOUT_MS): SampleSource<PgSample> {
  return kept<pg.Client, PgSample>(
    target,
    () => connectPostgres(target),
    (c) => c.end(),
    async (c) => {
      const s = await samplePostgres(c, target.name);
      return { ...s, walDisk: localDiskOf(target.host, join(s.dataDirectory, 'pg_wal'), s.currentWal) };
    },
    timeoutMs,
  );
}

export function mysqlSource(target: Target, timeoutMs = QUERY_TIMEOUT_MS): SampleSource<MysqlSample> {
  return kept<mysql.Connection, MysqlSample>(
    target,
    // No default schema: health reads server variables only, and a dropped schema must not stop it.
    () => connectMysql(target, { dbname: null }),
    (c) => c.end(),
    async (c) => {
      const s = await sampleMysql(c, target);
      return s.binlogDir === null ? s : { ...s, binlogDisk: localDiskOf(target.host, s.binlogDir, s.binlogs.at(-1)?.name ?? null) };
    },
    timeoutMs,
  );
}
