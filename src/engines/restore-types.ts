/**
 * What a restore is asked and what it reports, for every engine: the ops layer, the CLI and the
 * console speak these types; the engines (src/engines/postgres, src/engines/mysql) fill them in.
 */
import type { BinlogPoint } from '../binlog/reached.js';
import type { AmbiguousSecond, SecondChoice } from '../binlog/window.js';
import type { RestorePlan } from '../pitr/plan.js';
import type { RestoreTarget } from '../pitr/time.js';
import type { TableStat } from '../repo/manifest.js';

/** One way a backup was checked (checksums, the tool's own reading, a restore): pass or fail, in words. */
export interface CheckOutcome {
  method: string;
  ok: boolean;
  detail: string;
}

export interface PitrRequest {
  target: RestoreTarget;
  into: string;
  port: number;
  backup?: string;
  timeline?: number;
  /** Stop just before the target instead of just after (recovery_target_inclusive = false). */
  exclusive?: boolean;
  /** MySQL/MariaDB time targets: replay every transaction stamped the target's second, or none. */
  second?: SecondChoice;
  /** Only plan: check and describe, write nothing. */
  dryRun?: boolean;
  /** Read backups and WAL from this repository instead (a copy fetched by src/copies/fetch.ts). */
  repo?: string;
  /**
   * What the restored server is called where the engine can show it (PostgreSQL: cluster_name,
   * in every process title; MariaDB: mariadbd's argv[0]), so `ps` says what it is:
   * dbdrill-restore-<target>-<moment>.
   */
  serverName?: string;
}

/**
 * A plan as reports carry it, tagged by the archive it replays, so nothing guesses the engine
 * from which fields are present. PostgreSQL: WAL segments on a timeline path.
 */
export type WalPlanReport = Omit<RestorePlan, 'backup'> & { archive: 'wal'; backup: string };

/** MySQL/MariaDB: binlog files from the backup's position; no timelines. */
export interface MysqlPlanReport {
  archive: 'binlog';
  backup: string;
  target: RestoreTarget;
  /** The replay's options (start-position, stop-datetime, …), exactly as mariadb-binlog gets them. */
  settings: Record<string, string>;
  /** Binlog files replay reads, first and last, and how many. */
  walFrom: string;
  walTo: string;
  segments: number;
  estimatedBytes: number;
  notes: string[];
  /** A diff or incr: every backup the restore reads, its full first, and the bytes of each. */
  chain?: { id: string; type: 'full' | 'diff' | 'incr'; bytes: number }[];
  /** The point replay must reach. */
  promised?: BinlogPoint;
  /** The target second's transactions, when --second chose all or none of them. */
  ambiguousSecond?: AmbiguousSecond;
}

export type PlanReport = WalPlanReport | MysqlPlanReport;

export interface PitrReport {
  target: string;
  plan: PlanReport;
  dataDir: string;
  port: number;
  pid?: number;
  logFile?: string;
  /** The moment the restored database represents. */
  reached?: { lastCommitAt?: string; stoppedBeforeXid?: string; stoppedBeforeCommitAt?: string; redoDoneAt?: string; proven?: string };
  timeline?: number;
  segmentsRestored?: number;
  seconds: number;
  dryRun: boolean;
  /**
   * The console's dry run of a MySQL/MariaDB time target inside a second that holds several
   * transactions: they are listed here for the operator to choose all or none (the plan shown is
   * the one for none), where the CLI refuses and asks for --second, --gtid or --position.
   */
  chooseSecond?: AmbiguousSecond;
}


export interface MysqlRestoreInfo {
  /** The new instance's own directory (data in data/, log, socket, pid file, client.cnf). */
  instanceDir: string;
  schema: string;
  /** A 0600 option file with the new instance's user and password: mariadb --defaults-extra-file=… */
  optionFile: string;
  socket: string;
  user: string;
  stopCommand: string;
  transactionsReplayed: number;
  /** The GTID of the last transaction replayed. */
  lastGtid?: string;
  /** Where replay ended, and where the plan said it would (they are equal, or the restore failed). */
  reached?: BinlogPoint;
  promised?: BinlogPoint;
  tables: TableStat[];
}

export interface MysqlPitrReport extends PitrReport {
  mysql: MysqlRestoreInfo;
}

/** A plan in binlog terms (MySQL/MariaDB), by its tag. */
export function isMysqlPlan(plan: PlanReport): plan is MysqlPlanReport {
  return plan.archive === 'binlog';
}

export function isMysqlPitrReport(r: PitrReport): r is MysqlPitrReport {
  return typeof (r as Partial<MysqlPitrReport>).mysql === 'object';
}

export interface LogicalRestoreRequest {
  backup?: string;
  dbname: string;
  table?: string;
  jobs?: number;
  /** Read the backup from this repository instead (a copy fetched by src/copies/fetch.ts). */
  repo?: string;
}

export interface LogicalRestoreReport {
  target: string;
  backup: string;
  dbname: string;
  tables: TableStat[];
  /** Restored tables compared with the counts recorded at backup time. */
  matches: boolean;
  detail: string;
}
