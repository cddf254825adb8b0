import type mysql from 'mysql2/promise';
import { DbdrillError } from '../errors.js';
import { dirname } from 'node:path';
import { readBinlogArchive, type BinlogArchive } from './binlog-archive.js';
import type { BinlogSyncRun } from './binlog-sync-runs.js';
import type { DiskView } from './local-disk.js';

/**
 * One look at a MySQL/MariaDB server's binary logs and the target's binlog archive. `at` is this
 * machine's clock, because the ages that matter are those of files in the repository, which this
 * machine's clock stamps.
 */
export interface MysqlSample {
  at: string;
  flavor: 'mariadb' | 'mysql';
  version: string;
  /** Computed as `dbdrill target test` does, so it compares with repo.json's systemId. */
  systemId: string;
  logBin: boolean;
  binlogFormat: string;
  /** SHOW BINARY LOGS, oldest first; the last one is the file being written. */
  binlogs: { name: string; bytes: number }[];
  /** Where the server writes its binlogs (dirname of @@log_bin_basename; null with log_bin off). */
  binlogDir: string | null;
  archive: BinlogArchive;
  /** binlog-sync's recorded runs, oldest first (undefined: not known to this sampler). */
  sync?: BinlogSyncRun[];
  /** The disk holding the binlogs, when it can be seen from here (the sampler fills it in). */
  binlogDisk?: DiskView;
}

type Row = Record<string, string | null>;

export async function sampleMysql(conn: Pick<mysql.Connection, 'query'>, target: { name: string; port: number; repo: string }): Promise<MysqlSample> {
  const [vars] = await conn.query(
    'SELECT @@version AS version, @@log_bin AS log_bin, @@GLOBAL.binlog_format AS binlog_format, @@server_id AS server_id, @@hostname AS hostname, @@log_bin_basename AS log_bin_basename',
  );
  const v = (vars as Row[])[0]!;
  const version = String(v.version);
  const flavor = /mariadb/i.test(version) ? 'mariadb' : 'mysql';
  // Same identity as probeMysql: MySQL's server_uuid; MariaDB has none, so host, port, server_id.
  let systemId = `${v.hostname}:${target.port}/server_id=${v.server_id}`;
  if (flavor === 'mysql') {
    const [u] = await conn.query('SELECT @@server_uuid AS uuid');
    systemId = String((u as Row[])[0]!.uuid);
  }
  const logBin = v.log_bin === '1' || v.log_bin === 'ON';
  let binlogs: MysqlSample['binlogs'] = [];
  if (logBin) {
    try {
      // Works on MariaDB and on MySQL 8.4, where SHOW MASTER STATUS is gone; the last row is the
      // current file, so one statement gives both the list and the position being written.
      const [rows] = await conn.query('SHOW BINARY LOGS');
      binlogs = (rows as Row[]).map((r) => ({ name: String(r.Log_name), bytes: Number(r.File_size ?? 0) }));
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_ERROR') {
        throw new DbdrillError(
          'invalid-input',
          `The user of target "${target.name}" may not list the binary logs (${(e as Error).message}); grant it ${flavor === 'mariadb' ? 'BINLOG MONITOR' : 'REPLICATION CLIENT'}.`,
          { target: target.name },
        );
      }
      throw e;
    }
  }
  return {
    at: new Date().toISOString(),
    flavor,
    version: version.split('-')[0]!,
    systemId,
    logBin,
    binlogFormat: String(v.binlog_format ?? ''),
    binlogs,
    binlogDir: v.log_bin_basename ? dirname(String(v.log_bin_basename)) : null,
    archive: readBinlogArchive(target.repo),
  };
}
