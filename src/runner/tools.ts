import { execa } from './execa-lib.js';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { toolMissing, toolTooOld } from './errors.js';
import { isExecutable, searchPath } from './path-lookup.js';

/** Debian package that provides each tool, for the "install it with" sentence. */
const PACKAGES: Record<string, string> = {
  pg_dump: 'postgresql-client-15',
  pg_restore: 'postgresql-client-15',
  pg_basebackup: 'postgresql-client-15',
  pg_verifybackup: 'postgresql-client-15',
  pg_amcheck: 'postgresql-client-15',
  pg_waldump: 'postgresql-15',
  pg_controldata: 'postgresql-15',
  pg_ctl: 'postgresql-15',
  pgbench: 'postgresql-contrib',
  psql: 'postgresql-client-15',
  initdb: 'postgresql-15',
  postgres: 'postgresql-15',
  pgbackrest: 'pgbackrest',
  'mariadb-dump': 'mariadb-client',
  mysqldump: 'mariadb-client',
  'mariadb-binlog': 'mariadb-client',
  mysqlbinlog: 'mariadb-client',
  mariadb: 'mariadb-client',
  mysql: 'mariadb-client',
  'mariadb-backup': 'mariadb-backup',
  mariadbd: 'mariadb-server',
  mysqld: 'mariadb-server',
  'mariadb-install-db': 'mariadb-server',
  mysql_install_db: 'mariadb-server',
  zstd: 'zstd',
  rclone: 'rclone',
  tmux: 'tmux',
};

/** Tools that Debian ships per PostgreSQL major version under /usr/lib/postgresql/<major>/bin. */
const PG_VERSIONED = new Set([
  'pg_dump', 'pg_restore', 'pg_basebackup', 'pg_verifybackup', 'pg_amcheck', 'pg_waldump',
  'pg_controldata', 'pg_ctl', 'pgbench', 'psql', 'initdb', 'postgres',
]);

/** Server binaries must match the data directory's major version exactly; clients may be newer. */
const PG_EXACT = new Set(['initdb', 'postgres', 'pg_ctl', 'pg_controldata', 'pg_waldump']);

const PG_LIB = '/usr/lib/postgresql';

export interface Tool {
  name: string;
  path: string;
  /** e.g. "15.18" or "10.11.18" */
  version: string;
  major: number;
}

export interface FindOptions {
  /** The server's major version (PostgreSQL 15 -> 15; MariaDB 10.11 -> 10). */
  serverMajor?: number;
  /** The full server version, for the "older than the server" sentence. */
  serverVersion?: string;
}

const versionCache = new Map<string, Promise<string>>();

export function packageFor(tool: string): string {
  return PACKAGES[tool] ?? tool;
}

function pgMajorsInstalled(): number[] {
  try {
    return readdirSync(PG_LIB)
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .sort((a, b) => b - a);
  } catch {
    return [];
  }
}

/** Tools that do not answer `--version` (pgBackRest refuses it and wants `version`). */
const VERSION_ARGS: Readonly<Record<string, readonly string[]>> = { pgbackrest: ['version'] };

/**
 * Reads `tool --version` once per path and keeps the first dotted number in it. The run itself
 * is what is kept, so that callers asking at the same moment share one.
 */
export function toolVersion(path: string): Promise<string> {
  let version = versionCache.get(path);
  if (version === undefined) {
    const args = VERSION_ARGS[basename(path)] ?? ['--version'];
    version = execa(path, [...args], { reject: false, timeout: 10_000, stdin: 'ignore', cleanup: false }).then(({ stdout }) => /(\d+\.\d+(?:\.\d+)?)/.exec(stdout ?? '')?.[1] ?? '0');
    versionCache.set(path, version);
  }
  return version;
}

function majorOf(version: string): number {
  return Number(version.split('.')[0] ?? 0);
}

/**
 * Finds a tool. `names` lists alternatives in order of preference (mariadb-dump, mysqldump).
 * PostgreSQL tools come from /usr/lib/postgresql/<server major>/bin when the server's version is
 * known, because Debian's /usr/bin wrappers pick a version by cluster, not by the server dbdrill
 * talks to. A client older than the server is refused: pg_dump cannot dump a newer server.
 */
export async function findTool(names: string | string[], opts: FindOptions = {}): Promise<Tool> {
  const list = Array.isArray(names) ? names : [names];
  const first = list[0]!;
  let tooOld: { name: string; path: string } | undefined;

  for (const name of list) {
    const candidates: string[] = [];
    if (PG_VERSIONED.has(name)) {
      const majors = pgMajorsInstalled();
      const wanted = opts.serverMajor;
      const usable = wanted === undefined
        ? majors
        : PG_EXACT.has(name)
          ? majors.filter((m) => m === wanted)
          : [...majors.filter((m) => m === wanted), ...majors.filter((m) => m > wanted).reverse()];
      for (const m of usable) candidates.push(join(PG_LIB, String(m), 'bin', name));
      if (wanted !== undefined) {
        for (const m of majors.filter((x) => x < wanted)) {
          const path = join(PG_LIB, String(m), 'bin', name);
          if (isExecutable(path)) tooOld ??= { name, path };
        }
      }
    }
    const onPath = searchPath(name);
    if (onPath) candidates.push(onPath);

    for (const path of candidates) {
      if (!isExecutable(path)) continue;
      const version = await toolVersion(path);
      const major = majorOf(version);
      if (opts.serverMajor !== undefined && PG_VERSIONED.has(name)) {
        if (major < opts.serverMajor || (PG_EXACT.has(name) && major !== opts.serverMajor)) {
          tooOld ??= { name, path };
          continue;
        }
      }
      return { name, path, version, major };
    }
  }
  if (tooOld) {
    const pkg = packageFor(first).replace(/-\d+$/, `-${opts.serverMajor}`);
    throw toolTooOld(tooOld.name, await toolVersion(tooOld.path), opts.serverVersion ?? String(opts.serverMajor), pkg);
  }
  throw toolMissing(first, packageFor(first));
}
