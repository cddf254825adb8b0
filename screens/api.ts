import type { JobName } from '../src/config/policy.js';
import type { Target } from '../src/config/target.js';
import type { DrillReport } from '../src/drill/report.js';
import type { ProbeResult } from '../src/engines/probe-types.js';
import type { HealthReport } from '../src/health/report.js';
import type { CatalogEntry } from '../src/ops/catalog.js';
import type { DisasterKind, TrainingScore, TrainingSession } from '../src/training/session.js';
import type { Job } from '../src/ops/job.js';
import type { PitrReport } from '../src/ops/pitr.js';
import type { StrategyPlan } from '../src/ops/plan.js';
import type { StrategyView } from '../src/ops/strategy-view.js';
import type { LogicalRestoreReport } from '../src/engines/restore-types.js';
import type { VerifyReport } from '../src/ops/verify.js';
import type { RepoVerifyReport } from '../src/ops/verify-repository.js';
import type { RecoverableWindow } from '../src/pitr/window.js';
import type { CommitMoments, CommitRange } from '../src/engines/contract.js';
import type { RestoredServerState } from '../src/ops/restored-servers.js';

export type { RestoredServerState };
import type { BackupKind, Manifest } from '../src/repo/manifest.js';

/**
 * Everything the console needs from the engine. The entry point builds it from src/ops; tests build
 * it from plain functions. Screens never reach past it, so they never import execa, pg or mysql2
 * and never run a tool themselves.
 */
export interface ConsoleApi {
  /** Where the config lives; shown in the header so the operator knows which config is open. */
  configDir: string;
  version: string;
  /** The OS temp dir: a restore's default destination is a new directory under it. */
  tempDir: string;
  listTargets(): Promise<TargetRow[]>;
  /** Starts the local training PostgreSQL and adds the "sandbox" target; resolves with that target. */
  startSandbox(): Job<Target>;

  /** A target's backups, newest first (failed ones too), as `dbdrill catalog NAME` lists them. */
  listBackups(name: string): Promise<BackupList>;
  /** One backup's manifest, for the details pane. */
  readManifest(name: string, id: string): Promise<Manifest>;
  /** `dbdrill backup NAME --kind KIND` with the interactive defaults (full, fast checkpoint). */
  startBackup(name: string, kind: BackupKind): Job<Manifest>;
  /** `dbdrill verify NAME --backup ID [--restore]`. */
  startVerify(name: string, id: string, restore: boolean): Job<VerifyReport>;
  /** `dbdrill verify NAME` without --backup: every backup, every chain's links and the archive's continuity. */
  startVerifyRepository(name: string): Job<RepoVerifyReport>;
  /** `dbdrill restore NAME --backup ID --dbname NEWDB`: a logical backup into a new database on the target's server. */
  startLogicalRestore(name: string, request: { backup: string; dbname: string }): Job<LogicalRestoreReport>;
  /** `dbdrill window NAME`: from, to, the range each base backup covers, gaps. */
  readWindow(name: string): Promise<RecoverableWindow>;
  /** The commit moments of the target's archive inside a range (the window), read off the render path and kept per range. */
  readCommitMoments(name: string, range: CommitRange): Promise<CommitMoments>;
  /** `dbdrill restore NAME --to … --dry-run`: the plan, or the one sentence that refuses it. */
  planRestore(name: string, request: RestoreRequest): Job<PitrReport>;
  /** `dbdrill restore NAME --to … --into DIR --port P`: the real point-in-time restore. */
  startRestore(name: string, request: RestoreRequest): Job<PitrReport>;
  /** A TCP port on 127.0.0.1 that is free right now, for the restored server. */
  freePort(): Promise<number>;
  /** Servers restores of this target left (newest first): running or not, and their size on disk. */
  listRestoredServers(name: string): Promise<RestoredServerState[]>;
  /** Stops one restored server by its name (dbdrill-restore-…); its files stay. */
  stopRestoredServer(name: string): Promise<RestoredServerState>;

  /** Archiver status and recoverable window of one target, for its Targets row (may take a second). */
  targetSummary(name: string): Promise<TargetSummary>;
  /** `dbdrill target add` (original undefined) or an edit of `original`; throws one sentence naming the field. */
  saveTarget(input: TargetForm, original?: string): Promise<Target>;
  /** `dbdrill target remove NAME`: forgets the target; its repository stays on disk. */
  removeTarget(name: string): Promise<Target>;
  /** `dbdrill target test NAME`: connects and reports version, archiving and privileges. */
  testTarget(name: string): Job<ProbeResult>;

  /** `dbdrill drill NAME --to … [--rto] [--rpo]`. */
  startDrill(name: string, request: DrillRequest): Job<DrillReport>;
  /** `dbdrill drills NAME`: the drill history, newest first. */
  listDrills(name: string): Promise<DrillReport[]>;

  /** A live health sampler of one target (`dbdrill health NAME --watch`); the screen paces it. */
  openHealth(name: string): HealthFeed;

  /** The Strategy screen's view: policy, job states, the week ahead, last runs, the next prune (dry run). */
  readStrategy(name: string): Promise<StrategyView>;
  /** `dbdrill plan NAME`: the steady-state forecast and the objectives (asks the server; may take seconds). */
  readForecast(name: string): Promise<StrategyPlan>;
  /** `dbdrill policy set NAME …` from the form: a blank field removes that setting; throws one sentence naming the field. */
  savePolicy(name: string, form: PolicyForm): Promise<void>;

  /** The training session of a sandbox target, if one is under way. */
  readTraining(name: string): Promise<TrainingSession | undefined>;
  /** Causes the chosen disaster on a sandbox target (refused for any other target). */
  startDisaster(name: string, kind: DisasterKind): Job<TrainingSession>;
  /** Scores the trainee's recovery: the restored server's data against the state before the disaster, RTO and RPO. */
  scoreTraining(name: string): Job<TrainingScore>;
  /** Repairs what the disaster broke (archive_command) for a repair-kind session. */
  repairTraining(name: string): Job<TrainingSession>;
  /** Puts the sandbox back as it was before the disaster and ends the session. */
  endTraining(name: string): Job<TrainingSession>;
}

/** The Targets form's fields, as typed (validated by the engine). */
export interface TargetForm {
  name: string;
  engine: string;
  host: string;
  port: string;
  user: string;
  dbname: string;
  repo: string;
  passwordEnv: string;
  rto: string;
  rpo: string;
  /** native (blank) or pgbackrest (PostgreSQL): how backups are taken. */
  method: string;
  /**
   * pgBackRest's repository cipher: where its pass is kept, `/path/to/file` or `$VARIABLE` (never
   * the pass itself); blank for none.
   */
  cipherPass: string;
}

export interface TargetSummary {
  archiver: ArchiverStatus;
  /** Why, in words (the worst health check's reason). */
  reason?: string;
  window?: string;
}

/** The policy form's fields, named as `policy set` flags without the dashes (sentences name them so). */
export type PolicyField = JobName | 'keep-full' | 'keep-diff' | 'keep-days' | 'keep-archive' | 'gfs' | 'time-limit';
export type PolicyForm = Record<PolicyField, string>;
export type { StrategyPlan, StrategyView };

/** A drill as the Drill screen asks for it. */
export interface DrillRequest {
  /** "latest", ISO 8601 with a zone, or relative ("-15m"). */
  to: string;
  rto?: string;
  rpo?: string;
}

export interface HealthFeed {
  sample(): Promise<HealthReport>;
  close(): Promise<void>;
}

/** What `dbdrill catalog NAME --json` prints: the backups newest first, and manifests it could not read. */
export interface BackupList {
  target: string;
  repo: string;
  backups: CatalogEntry[];
  unreadable: { id: string; error: string }[];
}

/** A point-in-time restore as the Restore screen asks for it. */
export interface RestoreRequest {
  /** As the operator typed it: ISO 8601 with a zone, relative ("-15m"), or "latest". */
  to: string;
  /** Start from this base backup instead of letting the plan choose. */
  backup?: string;
  /** A new or empty directory. */
  into: string;
  port: number;
  /** MySQL/MariaDB: replay all or none of the transactions stamped the target's second. */
  second?: 'inclusive' | 'exclusive';
}

/** 'no answer': the server said nothing within the summary's time (SUMMARY_TIMEOUT_MS). */
export type ArchiverStatus = 'OK' | 'WARN' | 'CRIT' | '?' | 'no answer';

/** A target plus what is known about it right now; a missing field is shown as "—" (unknown). */
export interface TargetRow extends Target {
  /** Age of the newest complete backup, already formatted, e.g. "3h" or "2d" (when newestBackupAt is not known). */
  newestBackupAge?: string;
  /** When the newest complete backup finished (ISO 8601): the screen shows its age, ticking. */
  newestBackupAt?: string;
  archiver?: ArchiverStatus;
  /** The recoverable window, already formatted, e.g. "2d 4h" or "11-22 09:00 → now". */
  window?: string;
  /** With copies configured: the 3-2-1 verdict as `target show` prints it ("OK   3-2-1: newest backup … held 3x …"). */
  copies321?: string;
}
