import type { Target } from '../../config/target.js';
import type { PrivilegeCheck, ProbeResult } from '../probe-types.js';
import { connectMysql } from './client.js';

type Row = Record<string, string | null>;

export async function probeMysql(target: Target): Promise<ProbeResult> {
  const t0 = performance.now();
  const conn = await connectMysql(target);
  const connectMs = Math.round(performance.now() - t0);
  try {
    const [vars] = await conn.query(
      'SELECT @@version AS version, @@log_bin AS log_bin, @@binlog_format AS binlog_format, @@server_id AS server_id, @@hostname AS hostname',
    );
    const v = (vars as Row[])[0]!;
    const version = String(v.version);
    const mariadb = /mariadb/i.test(version);
    let systemId = `${v.hostname}:${target.port}/server_id=${v.server_id}`;
    if (!mariadb) {
      // MySQL has a per-server uuid; MariaDB has none, so host, port and server_id stand in.
      const [u] = await conn.query('SELECT @@server_uuid AS uuid');
      systemId = String((u as Row[])[0]!.uuid);
    }
    const [grants] = await conn.query(
      `SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES
        WHERE GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')`,
    );
    const have = new Set((grants as Row[]).map((g) => String(g.p)));
    const lacking = (list: string[]) => list.filter((p) => !have.has(p));
    const check = (purpose: string, needed: string[], alternatives: string[][] = []): PrivilegeCheck => {
      const options = [needed, ...alternatives];
      const ok = options.find((o) => lacking(o).length === 0);
      return {
        purpose,
        ok: ok !== undefined,
        detail: ok ? needed.join(', ') : `missing ${lacking(needed).join(', ')} (GRANT … ON *.* TO the backup user)`,
      };
    };
    const privileges = [
      check('logical backup (dump)', ['SELECT', 'RELOAD', 'LOCK TABLES', 'SHOW VIEW', 'EVENT', 'TRIGGER']),
      mariadb
        ? check('binlog coordinates', ['BINLOG MONITOR'], [['REPLICATION CLIENT'], ['SUPER']])
        : check('binlog coordinates', ['REPLICATION CLIENT']),
      check('binlog streaming', ['REPLICATION SLAVE']),
    ];
    const logBin = v.log_bin === '1' || v.log_bin === 'ON';
    return {
      target: target.name,
      engine: 'mysql',
      flavor: mariadb ? 'mariadb' : 'mysql',
      serverVersion: version.split('-')[0]!,
      serverMajor: Number(version.split('.')[0]),
      systemId,
      archiving: { enabled: logBin, detail: `log_bin=${logBin ? 'ON' : 'OFF'}, binlog_format=${v.binlog_format}` },
      privileges,
      connectMs,
    };
  } finally {
    await conn.end().catch(() => {});
  }
}
