/**
 * What to pass to mariadb-dump / mysqldump, as pure functions of the server and the tool, so
 * the flag rules (which differ between MariaDB, MySQL and their versions) are unit-tested.
 */

export type Flavor = 'mariadb' | 'mysql';

export interface ClientVersion {
  /** Who built the client (a MariaDB mysqldump is a MariaDB client). */
  flavor: Flavor;
  /** The distribution version, e.g. "10.11.18" or "8.0.36" (not the protocol's "Ver 10.19"). */
  version: string;
}

/**
 * Reads `--version` of a MySQL/MariaDB client tool. The first number is not the release:
 *   mariadb-dump  Ver 10.19 Distrib 10.11.18-MariaDB, for debian-linux-gnu (x86_64)
 *   mariadb-dump from 11.4.2-MariaDB, client 10.19 for debian-linux-gnu (x86_64)
 *   mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)
 *   mysqldump  Ver 10.13 Distrib 5.7.44, for Linux (x86_64)
 *   mariadb-backup based on MariaDB server 10.11.18-MariaDB debian-linux-gnu (x86_64)
 */
export function parseClientVersion(text: string): ClientVersion | undefined {
  const line = text.split('\n').find((l) => /\d+\.\d+/.test(l)) ?? '';
  const mariadb = /(\d+\.\d+\.\d+)-MariaDB/i.exec(line);
  if (mariadb) return { flavor: 'mariadb', version: mariadb[1]! };
  const distrib = /Distrib (\d+\.\d+\.\d+)/.exec(line);
  if (distrib) return { flavor: 'mysql', version: distrib[1]! };
  const ver = /Ver (\d+\.\d+\.\d+)/.exec(line);
  if (ver) return { flavor: 'mysql', version: ver[1]! };
  return undefined;
}

function parts(v: string): number[] {
  return v.split(/[.-]/).slice(0, 3).map((x) => Number.parseInt(x, 10) || 0);
}

/** a >= b, comparing major.minor.patch numerically. */
export function versionAtLeast(a: string, b: string): boolean {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  }
  return true;
}

/** "10.11.18" -> "10.11" */
export function majorMinor(v: string): string {
  return parts(v).slice(0, 2).join('.');
}

export interface DumpToolSpec {
  serverFlavor: Flavor;
  serverVersion: string;
  toolName: string;
  toolFlavor: Flavor;
  toolVersion: string;
}

/**
 * A client of the server's own flavor that is older than the server (by major.minor) may not know
 * its syntax or catalog (DESIGN: "tool older than the server" is refused). Across flavors the
 * versions are not comparable, so only the flags differ (see buildDumpArgs).
 */
export function dumpToolTooOld(spec: DumpToolSpec): boolean {
  if (spec.toolFlavor !== spec.serverFlavor) return false;
  return !versionAtLeast(spec.toolVersion, majorMinor(spec.serverVersion));
}

export interface DumpArgsSpec extends DumpToolSpec {
  /** The server writes binary logs, so the dump can record its binlog coordinates. */
  binlog: boolean;
  /** Connection flags (myConnArgs). */
  conn: string[];
  schema: string;
  /** Absent: the dump goes to stdout (an encrypting sink takes it into age). */
  resultFile?: string;
}

/**
 * One schema, without --databases: the dump then holds no CREATE DATABASE / USE lines, so a
 * restore can load it into a schema of any name. --single-transaction gives a consistent InnoDB
 * snapshot without locking tables; the binlog coordinates of that snapshot go into the dump's
 * head as a comment (=2), which is what point-in-time recovery replays from.
 */
export function buildDumpArgs(spec: DumpArgsSpec): string[] {
  const args = [
    ...spec.conn,
    '--single-transaction',
    '--routines',
    '--events',
    '--triggers',
    '--hex-blob',
    '--default-character-set=utf8mb4',
    // Tablespace DDL is server-wide and, since MySQL 8.0.21, needs the PROCESS privilege.
    '--no-tablespaces',
  ];
  if (spec.binlog) {
    if (spec.toolFlavor === 'mariadb') {
      // MariaDB's dump takes the position from the snapshot itself (binlog_snapshot_*), so it
      // needs no FLUSH TABLES WITH READ LOCK; --gtid adds the MariaDB GTID of that position.
      args.push('--master-data=2');
      if (spec.serverFlavor === 'mariadb') args.push('--gtid');
    } else {
      // MySQL renamed the option in 8.0.26 and deprecated the old name.
      args.push(versionAtLeast(spec.toolVersion, '8.0.26') ? '--source-data=2' : '--master-data=2');
    }
  }
  if (spec.toolFlavor === 'mysql') {
    if (spec.serverFlavor === 'mariadb') {
      // mysqldump 8 reads information_schema.COLUMN_STATISTICS, which MariaDB lacks, and asks for
      // @@GLOBAL.GTID_MODE, which MariaDB does not have.
      if (versionAtLeast(spec.toolVersion, '8.0.0')) args.push('--column-statistics=0');
      args.push('--set-gtid-purged=OFF');
    } else if (versionAtLeast(spec.toolVersion, '5.6.9')) {
      // The GTID set is recorded but commented out: a restore into a new schema on a server with
      // its own GTID history must not try to set gtid_purged.
      args.push(versionAtLeast(spec.toolVersion, '8.0.17') ? '--set-gtid-purged=COMMENTED' : '--set-gtid-purged=OFF');
    }
  }
  if (spec.resultFile !== undefined) args.push(`--result-file=${spec.resultFile}`);
  args.push(spec.schema);
  return args;
}
