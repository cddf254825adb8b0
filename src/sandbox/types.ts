export type SandboxEngine = 'postgres' | 'mysql';

/**
 * Everything needed to use and later stop a sandbox, and nothing that only lives in memory: it is
 * written as JSON by `dbdrill sandbox start` and read back by `sandbox stop` in another process.
 * The password is here on purpose: the instance is a throw-away on 127.0.0.1.
 */
export interface SandboxInfo {
  engine: SandboxEngine;
  /** The instance root (0700; owned by the server's system user when dbdrill runs as root). */
  dir: string;
  dataDir: string;
  host: '127.0.0.1';
  port: number;
  /** A superuser (PostgreSQL) or an all-privileges user (MariaDB) named dbdrill. */
  user: string;
  password: string;
  /** `shop` when sample data was loaded, otherwise the engine's always-present database. */
  dbname: string;
  /** The postmaster or mariadbd process (started directly, not through a wrapper). */
  pid: number;
  /** Holds the Unix socket; see socketPath() for its full name. */
  socketDir: string;
  /** The server's log: the first place to look when it misbehaves. */
  logFile: string;
  /**
   * PostgreSQL: where the built-in archive_command copies WAL segments. A segment appears under
   * its final name only when complete (it is copied as <name>.part, then renamed).
   */
  archiveDir?: string;
  /** MariaDB: where the binary logs are written (when binlog is on). */
  binlogDir?: string;
  /** Server version, e.g. "15.14" or "10.11.18". */
  version: string;
  /** Stop leaves the directory in place (for inspection) instead of removing it. */
  keep: boolean;
  /** ISO 8601, UTC. */
  startedAt: string;
}

export interface SandboxInstance extends SandboxInfo {
  /** Stops the server and removes the directory (unless keep). Safe to call more than once. */
  stop(): Promise<void>;
}

export interface SandboxStatus {
  running: boolean;
  pidAlive: boolean;
  /** Something accepts TCP connections on 127.0.0.1:port. */
  accepting: boolean;
}

export interface CommonSandboxOptions {
  /**
   * The instance root; created when missing and must be empty. Without it a fresh directory
   * named dbdrill-sandbox-<engine>-XXXXXX is made under DBDRILL_SANDBOX_PARENT or the OS temp dir.
   */
  baseDir?: string;
  /** A fixed port; without it a free one is picked (and re-picked if another process wins it). */
  port?: number;
  /** Load the `shop` sample schema (customers, orders, order_items). */
  sampleData?: boolean;
  /** Cancels a start in progress; whatever was started is stopped and removed. */
  signal?: AbortSignal;
  /** Keep the directory when the instance stops or fails to start. */
  keep?: boolean;
  /**
   * Let the server outlive this process (`dbdrill sandbox start`). By default a sandbox is
   * killed when the process that started it exits, so tests and drills cannot leak servers.
   */
  detach?: boolean;
}

export interface PostgresSandboxOptions extends CommonSandboxOptions {
  /** true: archive WAL into <dir>/archive; {command}: use this archive_command instead. */
  archive?: boolean | { command: string };
  /** Extra postgresql.conf settings, applied last (e.g. {archive_timeout: '5s'}). */
  settings?: Record<string, string>;
  /** WAL segment size in MiB (initdb --wal-segsize: a power of two from 1 to 1024); 16 when left out. */
  walSegmentMB?: number;
}

export interface MariadbSandboxOptions extends CommonSandboxOptions {
  /** Write binary logs into <dir>/binlog (default true: point-in-time recovery needs them). */
  binlog?: boolean;
  /**
   * Start on data of another server instead of a new one: populate fills <dir>/data (which does
   * not exist yet), e.g. from a prepared physical backup, in place of mariadb-install-db. That
   * data keeps its own accounts (root may have a password dbdrill does not know), so the server's
   * first start adds an account of its own, RESTORE_USER, with a new password (through
   * --init-file, which runs with every privilege before the first connection is accepted).
   * Settings it returns join `settings` (an encrypted backup's layout is known only once unpacked).
   */
  populate?: (dataDir: string) => Promise<void | Record<string, string>>;
  /** Extra mariadbd settings (name without dashes → value), passed after dbdrill's own. */
  settings?: Record<string, string>;
  /**
   * What `ps` lists the server as (a restored server's dbdrill-restore-<target>-<moment>):
   * mariadbd keeps the argv[0] it was started with as its title, so it is started under this
   * name. Its pid file and directory, not this name, are how dbdrill finds it again.
   */
  title?: string;
}
