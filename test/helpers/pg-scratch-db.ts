import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { SandboxInfo } from '../../src/sandbox/index.js';
import { withPg } from './sandbox.js';

/** A database of a test's own on the shared server, so tests never see each other's rows. */
export async function createScratchDb(info: SandboxInfo, prefix: string, seed: (c: pg.Client) => Promise<void>): Promise<string> {
  const name = `${prefix}_${randomBytes(3).toString('hex')}`;
  await withPg(info, (c) => c.query(`CREATE DATABASE ${name}`));
  await withPg(info, seed, { database: name });
  return name;
}

export async function dropDb(info: SandboxInfo, name: string): Promise<void> {
  await withPg(info, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Row count and an md5 over the rows in key order: equal values mean equal table contents. */
export async function tableFingerprint(info: SandboxInfo, db: string, table: string): Promise<{ rows: number; md5: string }> {
  return withPg(
    info,
    async (c) => {
      const { rows } = await c.query<{ n: string; h: string }>(
        `SELECT count(*)::text AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS h FROM ${table} t`,
      );
      return { rows: Number(rows[0]!.n), md5: rows[0]!.h };
    },
    { database: db },
  );
}
