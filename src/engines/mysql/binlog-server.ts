import type mysql from 'mysql2/promise';
import type { Target } from '../../config/target.js';
import { invalid } from '../../errors.js';
import { runTool } from '../../runner/run.js';
import { findTool, type Tool } from '../../runner/tools.js';
import type { EngineContext } from '../context.js';
import type { LogFetcher, ServerLogFiles } from '../contract.js';
import type { ProbeResult } from '../probe-types.js';
import { forwardToolEvents } from '../tool-events.js';
import { connectMysql } from './client.js';
import { myConnArgs, mySecret } from './connection-args.js';

/** What the server says about its binary logs: every file it still has, and the one it writes. */
export interface ServerBinlogs {
  logBin: boolean;
  files: { name: string; size: number }[];
  /** The file the server writes now (SHOW MASTER STATUS); undefined with log_bin off. */
  current?: { name: string; position: number };
}

/** The files the server has closed: all but the one it writes (and any listed after it). */
export function closedBinlogs(s: ServerBinlogs): { name: string; size: number }[] {
  if (!s.current) return [];
  const i = s.files.findIndex((f) => f.name === s.current!.name);
  return i < 0 ? [] : s.files.slice(0, i);
}

function privilegeError(e: unknown, target: Target, what: string, grant: string): never {
  const code = (e as { code?: string }).code ?? '';
  if (code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
    throw invalid(`${target.user} may not ${what} on ${target.host}:${target.port}; grant it ${grant} ON *.* and run again.`);
  }
  throw e;
}

export async function readServerBinlogs(target: Target, opts: { rotate?: boolean } = {}): Promise<ServerBinlogs & { rotated: boolean }> {
  const conn = await connectMysql(target, { dbname: null });
  try {
    const [vars] = await conn.query<mysql.RowDataPacket[]>('SELECT @@log_bin AS log_bin');
    const logBin = String(vars[0]?.log_bin) === '1' || String(vars[0]?.log_bin).toUpperCase() === 'ON';
    if (!logBin) return { logBin, files: [], rotated: false };
    let rotated = false;
    if (opts.rotate) {
      try {
        await conn.query('FLUSH BINARY LOGS');
        rotated = true;
      } catch (e) {
        privilegeError(e, target, 'rotate the binary log (FLUSH BINARY LOGS)', 'RELOAD');
      }
    }
    let files: ServerBinlogs['files'];
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
      files = rows.map((r) => ({ name: String(r.Log_name), size: Number(r.File_size) }));
    } catch (e) {
      privilegeError(e, target, 'list the binary logs (SHOW BINARY LOGS)', 'BINLOG MONITOR (MariaDB) or REPLICATION CLIENT (MySQL)');
    }
    let current: ServerBinlogs['current'];
    for (const sql of ['SHOW BINARY LOG STATUS', 'SHOW MASTER STATUS']) {
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>(sql);
        const r = rows[0];
        if (r?.File) current = { name: String(r.File), position: Number(r.Position) };
        break;
      } catch (e) {
        // MySQL 8.4 removed SHOW MASTER STATUS; MariaDB and older MySQL lack the new name.
        if ((e as { code?: string }).code !== 'ER_PARSE_ERROR') privilegeError(e, target, 'read the binlog position (SHOW MASTER STATUS)', 'BINLOG MONITOR (MariaDB) or REPLICATION CLIENT (MySQL)');
      }
    }
    return { logBin, files, ...(current ? { current } : {}), rotated };
  } finally {
    await conn.end().catch(() => {});
  }
}

/** The binlog tool of the server's flavor (its replication protocol and event types match). */
export function findBinlogTool(flavor: 'mariadb' | 'mysql' = 'mariadb'): Promise<Tool> {
  return findTool(flavor === 'mysql' ? ['mysqlbinlog', 'mariadb-binlog'] : ['mariadb-binlog', 'mysqlbinlog']);
}

/**
 * Copies closed binlogs from the server, byte for byte, into `dir` (named like on the server),
 * over the replication protocol: dbdrill needs no access to the server's files, so the archive
 * may live on another host. Each file is named, so the copy of each stops at its end (no
 * --to-last-log: the file the server is writing is never touched).
 */
export async function fetchBinlogs(ctx: EngineContext, target: Target, tool: Tool, names: string[], dir: string): Promise<void> {
  if (names.length === 0) return;
  const args = [...myConnArgs(target), '--read-from-remote-server', '--raw', `--result-file=${dir.endsWith('/') ? dir : `${dir}/`}`, ...names];
  try {
    await runTool({ tool, args, secret: mySecret(target), signal: ctx.signal, onEvent: forwardToolEvents(ctx) });
  } catch (e) {
    const text = (e as Error).message;
    if (/REPLICATION SLAVE|Access denied/i.test(text)) {
      throw invalid(`${target.user} may not read binary logs over the replication protocol on ${target.host}:${target.port}; grant it REPLICATION SLAVE ON *.* and run again.`);
    }
    if (/Could not find first log file name/i.test(text)) {
      throw invalid(`The server purged a binlog while it was being copied (${names.join(', ')}); run dbdrill binlog-sync again — and archive more often than the server's binlog_expire_logs_seconds.`);
    }
    throw e;
  }
}

/** The server's binary logs as binlog-sync reads them (the contract's archivePull.list). */
export async function listServerLogFiles(target: Target, opts: { rotate?: boolean }): Promise<ServerLogFiles> {
  const server = await readServerBinlogs(target, opts);
  return { rotated: server.rotated, files: server.files, ...(server.current ? { current: server.current } : {}), closed: closedBinlogs(server) };
}

/** The binlog tool of the probed server's flavor, ready to copy closed binlogs (archivePull.fetcher). */
export async function binlogFetcher(probe: ProbeResult): Promise<LogFetcher> {
  const tool = await findBinlogTool(probe.flavor === 'mariadb' ? 'mariadb' : 'mysql');
  return (ctx, target, names, dir) => fetchBinlogs(ctx, target, tool, names, dir);
}
