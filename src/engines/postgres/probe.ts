import type { Target } from '../../config/target.js';
import type { PrivilegeCheck, ProbeResult } from '../probe-types.js';
import { connectPostgres } from './client.js';

interface Row {
  server_version: string;
  server_version_num: string;
  system_identifier: string;
  archive_mode: string;
  archive_command: string;
  wal_level: string;
  rolsuper: boolean;
  rolreplication: boolean;
  read_all: boolean;
  monitor: boolean;
  can_connect_all: boolean;
}

export async function probePostgres(target: Target): Promise<ProbeResult> {
  const t0 = performance.now();
  const client = await connectPostgres(target);
  const connectMs = Math.round(performance.now() - t0);
  try {
    const { rows } = await client.query<Row>(`
      SELECT current_setting('server_version') AS server_version,
             current_setting('server_version_num') AS server_version_num,
             (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier,
             current_setting('archive_mode') AS archive_mode,
             current_setting('archive_command') AS archive_command,
             current_setting('wal_level') AS wal_level,
             r.rolsuper, r.rolreplication,
             pg_has_role(current_user, 'pg_read_all_data', 'MEMBER') AS read_all,
             pg_has_role(current_user, 'pg_monitor', 'MEMBER') AS monitor,
             has_database_privilege(current_database(), 'CONNECT') AS can_connect_all
        FROM pg_roles r WHERE r.rolname = current_user`);
    const r = rows[0]!;
    const num = Number(r.server_version_num);
    const archivingOn = r.archive_mode !== 'off' && r.archive_command !== '' && r.archive_command !== '(disabled)';
    const privileges: PrivilegeCheck[] = [
      {
        purpose: 'logical backup (pg_dump)',
        ok: r.rolsuper || r.read_all,
        detail: r.rolsuper ? 'superuser' : r.read_all ? 'member of pg_read_all_data' : 'needs superuser or pg_read_all_data to dump every table',
      },
      {
        purpose: 'physical backup (pg_basebackup)',
        ok: r.rolsuper || r.rolreplication,
        detail: r.rolsuper ? 'superuser' : r.rolreplication ? 'REPLICATION role' : 'needs the REPLICATION attribute (ALTER ROLE … REPLICATION)',
      },
      {
        purpose: 'archiver health',
        ok: r.rolsuper || r.monitor,
        detail: r.rolsuper ? 'superuser' : r.monitor ? 'member of pg_monitor' : 'needs pg_monitor to read pg_stat_archiver and the .ready backlog',
      },
    ];
    return {
      target: target.name,
      engine: 'postgres',
      flavor: 'postgresql',
      serverVersion: r.server_version.split(' ')[0]!,
      serverMajor: Math.floor(num / 10000),
      systemId: r.system_identifier,
      archiving: {
        enabled: archivingOn,
        detail: `wal_level=${r.wal_level}, archive_mode=${r.archive_mode}, archive_command=${r.archive_command || '(empty)'}`,
      },
      privileges,
      connectMs,
    };
  } finally {
    await client.end().catch(() => {});
  }
}
