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
}

export interface PitrReport {
  target: string;
  plan: Omit<RestorePlan, 'backup'> & { backup: string };
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

/** The plan as PitrReport carries it, plus what binlogs add: the point replay must reach, the target second's transactions. */
export type MysqlPlanReport = PitrReport['plan'] & { promised?: BinlogPoint; ambiguousSecond?: AmbiguousSecond };

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

/** A plan made by reportPlan (binlog terms) rather than the PostgreSQL planner. */
export function isMysqlPlan(plan: PitrReport['plan']): boolean {
  return 'start-position' in plan.settings;
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
