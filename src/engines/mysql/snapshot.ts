import type mysql from 'mysql2/promise';
import type { Target } from '../../config/target.js';
import { connectMysql } from './client.js';
import type { Flavor } from './dump-args.js';
import { listTables, prepareStatsSession, type TablePlan } from './table-stats.js';

/**
 * How dbdrill counts a MySQL/MariaDB schema "as dumped". Unlike PostgreSQL, a server cannot hand
 * its snapshot to mariadb-dump, so the dump and the counts come from two snapshots. They describe
 * the same data when they sit at the same binary-log position: every committed InnoDB change is
 * in the binlog, and a consistent snapshot on MariaDB reports exactly the position it sees
 * (binlog_snapshot_file/position), as the dump's own head does. To make the two positions meet,
 * commits are paused (FLUSH TABLES WITH READ LOCK) from just before the counting snapshot until
 * the dump has opened its snapshot, which takes milliseconds. (MySQL's snapshot reports no
 * position: there the server's position is read while commits are paused, and the pause ends at
 * once, because mysqldump --source-data takes its own global read lock.) The positions are
 * compared after the dump; when they differ (the lock could not be had in time, or a write landed
 * before a MySQL dump's lock), the counts describe another moment and are not recorded at all: a
 * manifest's table stats are always those of the dump's own binlog position. Without a binlog
 * there is no position to compare, and the counts are kept only if commits stayed paused until
 * the dump's snapshot was seen.
 */
export interface BinlogPos {
  file: string;
  position: number;
}

/** How long FLUSH TABLES WITH READ LOCK may wait: while it waits, writes on the server wait too. */
export const PAUSE_WAIT_SECONDS = 3;
/** The longest commits stay paused while waiting for the dump's snapshot. */
export const PAUSE_MAX_MS = 10_000;

export interface CommitPause {
  threadId: number;
  /** MySQL: the binlog position while commits are paused (MariaDB reads it from the snapshot). */
  binlogStatus(): Promise<BinlogPos | undefined>;
  /**
   * Waits until a session of our user that connected after `afterThreadId` holds an InnoDB
   * transaction (the dump's snapshot), the tool has exited, or PAUSE_MAX_MS passed.
   */
  waitForSnapshot(afterThreadId: number, toolDone: Promise<unknown>): Promise<'seen' | 'tool-exited' | 'timeout' | 'unknown'>;
  release(): Promise<void>;
}

export async function pauseCommits(target: Target, waitSeconds = PAUSE_WAIT_SECONDS): Promise<CommitPause> {
  const conn = await connectMysql(target, { dbname: null });
  try {
    await conn.query(`SET SESSION lock_wait_timeout = ${Math.max(1, Math.round(waitSeconds))}`);
    await conn.query('FLUSH TABLES WITH READ LOCK');
  } catch (e) {
    await conn.end().catch(() => {});
    throw e;
  }
  let released = false;
  return {
    threadId: conn.threadId,
    async binlogStatus() {
      for (const sql of ['SHOW BINARY LOG STATUS', 'SHOW MASTER STATUS']) {
        try {
          const [rows] = await conn.query<mysql.RowDataPacket[]>(sql);
          const r = rows[0];
          return r && r.File ? { file: String(r.File), position: Number(r.Position) } : undefined;
        } catch {
          // MySQL 8.4 removed SHOW MASTER STATUS; older servers lack the new name.
        }
      }
      return undefined;
    },
    async waitForSnapshot(afterThreadId, toolDone) {
      let done = false;
      toolDone.then(() => (done = true), () => (done = true));
      const deadline = performance.now() + PAUSE_MAX_MS;
      while (!done && performance.now() < deadline) {
        try {
          const [rows] = await conn.query<mysql.RowDataPacket[]>(
            `SELECT t.trx_mysql_thread_id AS id
               FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
              WHERE p.ID > ? AND p.USER = SUBSTRING_INDEX(USER(), '@', 1) LIMIT 1`,
            [afterThreadId],
          );
          if (rows.length > 0) return 'seen';
        } catch {
          // INNODB_TRX needs the PROCESS privilege; without it the snapshot cannot be seen.
          return 'unknown';
        }
        await new Promise((r) => setTimeout(r, 15));
      }
      return done ? 'tool-exited' : 'timeout';
    },
    async release() {
      if (released) return;
      released = true;
      await conn.query('UNLOCK TABLES').catch(() => {});
      await conn.end().catch(() => {});
    },
  };
}

export interface StatsSnapshot {
  conn: mysql.Connection;
  threadId: number;
  /** MariaDB: the binlog position this snapshot sees (undefined when the binlog is off). */
  position?: BinlogPos;
  /** Tables and columns, listed inside the snapshot while commits (and DDL) were paused. */
  tables: TablePlan[];
  characterSet: string;
  collation: string;
}

/** Opens the counting connection's consistent snapshot on the target's schema. */
export async function openStatsSnapshot(target: Target, flavor: Flavor): Promise<StatsSnapshot> {
  const conn = await connectMysql(target);
  try {
    await prepareStatsSession(conn);
    const [s] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [target.dbname],
    );
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    let position: BinlogPos | undefined;
    if (flavor === 'mariadb') {
      const [st] = await conn.query<mysql.RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
      const v = new Map(st.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
      const file = v.get('binlog_snapshot_file');
      if (file) position = { file, position: Number(v.get('binlog_snapshot_position')) };
    }
    const tables = await listTables(conn, target.dbname);
    return {
      conn,
      threadId: conn.threadId,
      ...(position ? { position } : {}),
      tables,
      characterSet: String(s[0]?.cs ?? 'utf8mb4'),
      collation: String(s[0]?.co ?? ''),
    };
  } catch (e) {
    await conn.end().catch(() => {});
    throw e;
  }
}

/**
 * Ends a session from outside: a count waiting for a metadata lock would not notice its client
 * going away, and must not keep its snapshot open on the server.
 */
export async function killSession(target: Target, threadId: number): Promise<void> {
  try {
    const c = await connectMysql(target, { dbname: null });
    try {
      await c.query(`KILL ${Math.trunc(threadId)}`);
    } finally {
      await c.end().catch(() => {});
    }
  } catch {
    // Already gone, or the server is the reason the run failed; nothing more can be done here.
  }
}
