/**
 * The engine contract: everything src/ops needs from a database engine, in one interface. The ops
 * layer orchestrates (jobs, manifests, steps, reports, judging) and reaches an engine only through
 * engineFor() (src/engines/registry.ts); an engine (src/engines/postgres, src/engines/mysql) is one
 * module that implements EngineModule. A new engine is a new directory with an index.ts and one
 * row in the registry's table; a new way to back up inside an engine (pgBackRest next to
 * pg_basebackup) is one more entry in that engine's `methods`.
 *
 * Types only: importing this module loads nothing.
 */
import type { BinlogScan } from '../binlog/events.js';
import type { PlainSum } from '../crypto/sealed.js';
import type { BackupSink } from '../crypto/sealed.js';
import type { SecondChoice } from '../binlog/window.js';
import type { DrillCheck } from '../config/drill-checks.js';
import type { Engine } from '../config/engines.js';
import type { Target } from '../config/target.js';
import type { Retention as PolicyRetention } from '../config/policy.js';
import type { HealthThresholds } from '../config/health-settings.js';
import type { DrillCheckResult, DrillReport } from '../drill/report.js';
import type { BinlogView } from '../health/mysql-derive.js';
import type { PgArchiveView } from '../health/pg-derive.js';
import type { HealthReport } from '../health/report.js';
import type { StoredSeries } from '../health/sample-history.js';
import type { HealthCheck } from '../health/status.js';
import type { RecoverableWindow } from '../pitr/window.js';
import type { RestoreTarget } from '../pitr/time.js';
import type { BackupKind, BackupType, Manifest, TableStat } from '../repo/manifest.js';
import type { Compression } from '../wal/layout.js';
import type { Settled } from '../wal/stream-settle.js';
import type { CommonSandboxOptions, SandboxInstance } from '../sandbox/types.js';
import type { DisasterKind } from '../training/session.js';
import type { ToolCall } from '../runner/tool-call.js';
import type { BackupResult, RecordTool } from './backup-result.js';
import type { EngineContext } from './context.js';
import type { ProbeResult } from './probe-types.js';
import type { CheckOutcome, LogicalRestoreReport, LogicalRestoreRequest, PitrReport, PitrRequest } from './restore-types.js';

export type { CheckOutcome, LogicalRestoreReport, LogicalRestoreRequest, PitrReport, PitrRequest } from './restore-types.js';

/** What a backup asks of an engine once the job, manifest and checksums are taken care of. */
export interface EngineBackupRequest {
  kind: BackupKind;
  type: BackupType;
  jobs?: number;
  checkpoint?: 'fast' | 'spread';
  digests?: boolean;
  /** A diff or incr: the backup it is taken against (the method's chainBase picked it before the new backup existed). */
  base?: { manifest: Manifest; dir: string };
  /**
   * Where the tool's output goes: in plain (tools write their files themselves), or, when the
   * target has --encrypt-to, through `sink.fromStdout` into age. A method that cannot stream a
   * backup to stdout refuses an encrypting sink in one sentence.
   */
  sink?: BackupSink;
}

/**
 * One way an engine takes backups (pg_basebackup/pg_dump, pgBackRest, mariadb-backup/-dump). The
 * target's method picks it; `native` always exists.
 */
export interface EngineMethod {
  readonly name: string;
  /** The backup types this method takes, by kind. */
  readonly backupTypes: Readonly<Record<BackupKind, readonly BackupType[]>>;
  /**
   * Takes a backup into `dir` (a fresh directory in the repository), telling `recordTool` what
   * runs before it starts. Absent while the method is not wired into `dbdrill backup` yet: then
   * `unwired` says so in one sentence.
   */
  backup?(ctx: EngineContext, target: Target, probe: ProbeResult, dir: string, req: EngineBackupRequest, recordTool: RecordTool): Promise<BackupResult>;
  readonly unwired?: string;
  /** One sentence for a backup type this method does not take (`--type diff` on pg_basebackup). */
  refuseType?(target: Target, kind: BackupKind, type: BackupType): string;
  /**
   * Set when the method's tool keeps its own repository and catalog for backups of `kinds`
   * (pgBackRest): dbdrill takes them through `take` and lists them through `list` (rows in the
   * Manifest shape, newest first) instead of writing manifests of its own.
   */
  readonly ownCatalog?: MethodCatalog;
  /**
   * What the method keeps next to the target (pgBackRest: the generated conf, the stanza),
   * written by `target add`/`target edit`; returns the files made and what is left to do.
   */
  setUp?(ctx: EngineContext, target: Target): Promise<MethodSetup>;
  /** The files the method keeps for a target, as `target show` prints them. */
  files?(target: Target): MethodFile[];
  /**
   * Directories of the target's repository (relative) that the method's tool keeps and that a copy
   * holds whole, beside dbdrill's backups and archive (pgBackRest: its repository, sets + WAL).
   */
  readonly copiedDirs?: readonly string[];
  /**
   * Readies a repository fetched from a copy (`--from COPY`, the primary maybe lost) for the
   * method's tool, which then restores, drills and verifies from it as from the primary
   * (pgBackRest: a conf of its own pointing at the fetched repository).
   */
  fromCopy?(target: Target, repo: string, owner?: { uid: number; gid: number }): Promise<void>;
  /** The tool's own check of its whole repository (`dbdrill verify NAME`), with what it found named. */
  verifyRepository?(ctx: EngineContext, target: Target): Promise<MethodVerifyReport>;
  /**
   * Methods whose diffs and incrs dbdrill links itself (the registry's `ownChains`): the backup a
   * new diff (the newest full) or incr (the newest chain member) is taken against, picked from the
   * catalog before anything is written; throws one sentence when there is no valid base (missing,
   * failed, pruned, corrupt, another release series).
   */
  chainBase?(target: Target, manifests: readonly Manifest[], type: Exclude<BackupType, 'full'>, probe: ProbeResult): Promise<Manifest>;
}

export interface MethodCatalog {
  readonly kinds: readonly BackupKind[];
  /**
   * Starts what `take` needs that does not depend on the server (the tool, its catalog) while
   * dbdrill connects; `take` is handed what it returns. A failure waits for `take` to report it.
   */
  prepareTake?(target: Target): Promise<unknown>;
  /**
   * Takes one backup with the method's tool. `probe` is dbdrill's connect step, still running: a
   * tool that connects and identifies the server itself (pgBackRest) starts beside it instead of
   * after it, and stops if the probe fails, whose sentence is then the one reported.
   */
  take(ctx: EngineContext, target: Target, probe: Promise<ProbeResult>, req: EngineBackupRequest, prepared?: Promise<unknown>): Promise<CatalogRow>;
  list(target: Target, signal?: AbortSignal): Promise<CatalogRow[]>;
  /**
   * The policy's retention applied by the tool itself (pgBackRest's expire), which knows its own
   * chains; returns one sentence per rule it could not express. Prune calls it for these kinds.
   */
  expire?(ctx: EngineContext, target: Target, retention: PolicyRetention, dryRun: boolean): Promise<{ unsupported: string[]; sets: string[] }>;
  /**
   * `verify NAME [--backup ID] [--restore]` of one of its backups (`id`, a row of `list`): the
   * tool's check of every file the backup's restore reads and, with restore, that backup restored
   * into a scratch server that must recover and pass pg_amcheck. Nothing is written to a manifest:
   * the tool's catalog is the record.
   */
  verify?(ctx: EngineContext, target: Target, id: string, opts: { restore: boolean }): Promise<CheckOutcome[]>;
}

/** A backup in a method's own catalog: the Manifest shape, plus what restoring it reads and costs. */
export type CatalogRow = Manifest & {
  /** Every backup a restore of this one reads, oldest first, this one excluded. */
  reference?: string[];
  /** Bytes this backup copied (the rest it references), and what it takes in the repository (compressed). */
  sizes?: { delta: number; repoSize: number; repoDelta: number };
};

export interface MethodFile {
  path: string;
  text: string;
}

export interface MethodSetup {
  files: MethodFile[];
  /** Sentences: what was done (stanza created, check passed) and what is left (enable archiving). */
  notes: string[];
}

export interface MethodVerifyReport {
  ok: boolean;
  /** One sentence per broken item, naming the file, set or segment. */
  findings: string[];
  /** What was checked, for the report. */
  checked: { backups: number; archived: number };
}

/** The drill's timed steps, handed to an engine's drill so it can run its parts as them. */
export interface DrillHooks {
  /** Runs fn as the report's 'restore base' step; its time is the RTO's transfer. */
  restoreBase<T>(fn: () => Promise<T>, detail?: (v: T) => string | undefined, bytes?: (v: T) => number | undefined): Promise<T>;
  /** Runs fn as the report's replay step (DrillEngine.replayStep); its time is the RTO's replay. */
  replay<T>(fn: () => Promise<T>, detail?: (v: T) => string | undefined, bytes?: (v: T) => number | undefined): Promise<T>;
  /**
   * Runs fn as the report's 'apply incrementals' step (engines whose registry row has ownChains):
   * a diff or incr's changes applied onto its full; its time is the RTO's apply.
   */
  applyIncrementals<T>(fn: () => Promise<T>, detail?: (v: T) => string | undefined, bytes?: (v: T) => number | undefined): Promise<T>;
  /** Marks a step skipped, with why. */
  skip(step: string, why: string): void;
}

/** The scratch instance a drill restores into; tear-down stops it and removes `dir` unless kept. */
export interface DrillScratch {
  readonly dir: string;
  readonly dataDir: string;
  readonly port: number;
  /** The provision step's detail: what runs where. */
  readonly detail: string;
  stop(): Promise<void>;
}

export type DrillRpo = NonNullable<DrillReport['rpo']>;

/**
 * One drill of one backup, as the engine planned it at the pick step. The pipeline in
 * src/ops/drill.ts calls its members in order: provision, restoreBase, replay, verifyInstance,
 * rpo; it times them, records them, judges and tears down.
 */
export interface DrillRun {
  readonly backup: Manifest;
  /** The pick step's detail: the backup and what will be replayed after it. */
  readonly detail: string;
  /**
   * Engine checks of the backup's files beyond their checksums (run in 'verify backup files'). A
   * backup kept by a method's own tool (pgBackRest: no files in dbdrill's list) returns the step's
   * detail: what the tool checked.
   */
  checkFiles?(backupDir: string): Promise<void | string>;
  /** Starts the scratch instance (the 'provision scratch instance' step runs this). */
  provision(hooks: DrillHooks, keep: boolean): Promise<DrillScratch>;
  /** Puts the backup into the scratch instance, through hooks.restoreBase (or already did, inside provision). */
  restoreBase(hooks: DrillHooks): Promise<void>;
  /** Replays the archive to the target through hooks.replay, or skips the replay step saying why. */
  replay(hooks: DrillHooks): Promise<void>;
  /** Every check of the restored instance (connects, matches the backup, the point reached, the target's own checks). */
  verifyInstance(checks: DrillCheck[], targetTime: Date): Promise<DrillCheckResult[]>;
  /** The data lost: the target moment (or now) minus what the instance holds, with what it was measured against. */
  rpo(requested: RestoreTarget): DrillRpo;
}

export interface DrillEngine {
  /** The replay step's name in the report ('replay WAL', 'replay binlogs'). */
  readonly replayStep: string;
  /** Picks the backup a restore to `requested` would use and plans the drill of it. */
  pick(ctx: EngineContext, target: Target, requested: RestoreTarget, opts: { backup?: string; second?: SecondChoice }): Promise<DrillRun>;
}

/** An archived file (WAL segment, binlog) as retention, prune and the plan see it. */
export interface ArchivedFile {
  name: string;
  bytes: number;
  /** When it reached the archive (ms). */
  archivedAt: number;
}

/** The engine's archive in the repository (WAL segments, binlogs): what retention, prune and the plan read. */
export interface EngineArchive {
  /** Archived files before `position` (all of them without one), oldest first. */
  filesBelow(repo: string, position?: string): ArchivedFile[];
  /** Removes archived files by name; returns how many went. */
  remove(repo: string, names: string[]): number;
  /** Orders two archive positions. */
  compare(a: string, b: string): number;
  /** Where a backup starts a point-in-time restore and the archive position it reads from; undefined when it starts none. */
  pitrStart(m: Manifest): { pitrFrom: string; archiveFrom: string } | undefined;
  /** The server closes an archive file on a timer (archive_timeout), which the plan reads from a health sample. */
  readonly closesOnTimer: boolean;
}

/** What one health sample of a server shows: its state, the checks derived from the history, the engine's view. */
export interface EngineHealthSample {
  server: HealthReport['server'];
  /** The server check first, then the archiving checks derived from the history. */
  checks: HealthCheck[];
  archive?: PgArchiveView;
  binlog?: BinlogView;
}

export interface EngineHealthOptions {
  timeoutMs: number;
  /** How many samples the history keeps. */
  size: number;
  /** Samples of earlier runs (used when they are this engine's). */
  seed?: StoredSeries;
  thresholds: HealthThresholds;
  rpoSeconds?: number;
  /** The config directory, where the engine's own records live (binlog-sync runs). */
  configDir?: string;
}

/** One target's health sampling: a connection kept between samples and the bounded history. */
export interface EngineHealthSampler {
  /**
   * Reads a sample from the server; throws when the server cannot be reached (a result the
   * caller reports, not an error). derive() then adds it to the history and derives from it.
   */
  sample(): Promise<{ derive(): EngineHealthSample }>;
  series(): StoredSeries;
  close(): Promise<void>;
}

export interface ArchivingRequest {
  apply: boolean;
  archiveTimeout?: string;
  compress?: Compression;
  /** Batched wal-push (spool records answered by the shell); on unless false. */
  batch?: boolean;
}

/** What it takes to archive a target's log into its repository (`dbdrill archiving enable`). */
export interface ArchivingPlan {
  target: string;
  statements: string[];
  restartNeeded: boolean;
  applied: boolean;
  /** After --apply: settings still waiting for a restart (pg_settings.pending_restart). */
  pendingRestart: string[];
  archiveCommand: string;
  warnings: string[];
  /** What ran after applying (pgBackRest: check passed). */
  notes?: string[];
  /** What archive_command runs, in words, when it is not dbdrill wal-push. */
  tool?: string;
}

/** A throw-away server of this engine (training, verify --restore, drills). */
export interface EngineSandbox {
  /** The server's name in steps and sentences: "PostgreSQL", "MariaDB". */
  readonly server: string;
  /** The system account the server runs as when dbdrill runs as root. */
  readonly account: 'postgres' | 'mysql';
  start(opts: CommonSandboxOptions): Promise<SandboxInstance>;
  /** The training sandbox: sample data, archiving into `repo` on, detached from this process. */
  startTraining(opts: { port?: number; repo: string; signal: AbortSignal }): Promise<SandboxInstance>;
  /** Readies a new repository for the training sandbox's archive (owned by `owner` when given). */
  prepareRepo(repo: string, owner?: { uid: number; gid: number }): Promise<void>;
}

/** What the server holds of the log files dbdrill pulls from it, as listed now. */
export interface ServerLogFiles {
  /** Whether the server was told to close its current file first (and did). */
  rotated: boolean;
  /** Every file the server still has, oldest first. */
  files: { name: string; size: number }[];
  /** The file the server writes now; absent when it writes none. */
  current?: { name: string; position: number };
  /** The files the server has closed: all before the current one. Only these are copied. */
  closed: { name: string; size: number }[];
}

/** Copies named closed log files from the server byte for byte into `dir`, named as on the server. */
export type LogFetcher = (ctx: EngineContext, target: Target, names: string[], dir: string) => Promise<void>;

/**
 * An archive that dbdrill pulls from the server (`dbdrill binlog-sync`: MySQL/MariaDB binary logs
 * over the replication protocol), where PostgreSQL's server pushes its WAL itself. The ops file
 * keeps the archive (index, placing, gaps); the engine only talks to the server.
 */
export interface EngineArchivePull {
  /** Lists the server's log files, after closing the current one when `rotate` asks. */
  list(target: Target, opts: { rotate?: boolean }): Promise<ServerLogFiles>;
  /** Finds the copying tool that matches the probed server (one sentence when none is installed). */
  fetcher(probe: ProbeResult): Promise<LogFetcher>;
  /** The same for an encrypted repository: one file at a time straight into age (no plaintext file). */
  sealedFetcher(probe: ProbeResult): Promise<SealedLogFetcher>;
}

/** One closed binlog fetched into age: its ciphertext, and what its plain bytes said on the way. */
export interface SealedFetch {
  /** The ciphertext, inside the archive's private incoming directory. */
  path: string;
  plain: PlainSum;
  scan: BinlogScan;
}

/** Fetches one closed log file into `dir` as age ciphertext, with its plain sums and scan. */
export type SealedLogFetcher = (ctx: EngineContext, target: Target, name: string, dir: string, recipients: readonly string[]) => Promise<SealedFetch>;

/** The archiver of a training sandbox as the training scores it. */
export interface TrainingArchiver {
  /** Log files waiting to be archived. */
  ready: number;
  /** The last file the archiver archived, if any. */
  lastArchived: string | null;
  /** Whether the file asked about (or a later one) is archived; false when none was asked about. */
  archived: boolean;
}

/**
 * One connection to a training sandbox (or to the server a trainee restored), with the SQL of the
 * training disasters, their repair and the sandbox's reset. src/ops/training.ts keeps the session
 * and the scoring; this is the server's part.
 */
export interface TrainingServer {
  /** The archiving command the server runs now. */
  archiveCommand(): Promise<string>;
  setArchiveCommand(command: string): Promise<void>;
  /** A few "business as usual" commits `gapMs` apart; returns when the last one committed. */
  writeEvents(count: number, gapMs: number, signal?: AbortSignal): Promise<Date>;
  /** A table's row count and digest; undefined when it does not exist. */
  tableStat(table: string): Promise<TableStat | undefined>;
  /** Does the damage and returns when it committed (the server's own clock). */
  causeDisaster(kind: DisasterKind): Promise<Date>;
  /** Closes the current log file so the archiver gets it now; returns its name. */
  switchLog(): Promise<string>;
  /** The archiver's backlog, and whether `file` (when given) or a later one is archived. */
  archiver(file?: string): Promise<TrainingArchiver>;
  /** Waits until `file` (or a later one) is archived; false when it is not within the time. */
  waitArchived(file: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Puts the damaged table back as the sample had it and drops the training's own table. */
  resetTrainingTable(): Promise<void>;
  close(): Promise<void>;
}

/** The training scenarios' server side, on an engine whose registry row says it has training. */
export interface EngineTraining {
  /** Connects to the sandbox (or a restored copy of it: the target with another port). */
  connect(target: Target): Promise<TrainingServer>;
}

/** What `dbdrill stream` runs, once the engine has readied the server (slot, synchronous standby). */
export interface StreamSetup {
  /** The replication slot the stream holds (created when missing). */
  slot: string;
  /** The name the server sees the stream as (pg_stat_replication, synchronous_standby_names). */
  applicationName: string;
  /** Where the receiver writes: completed files are moved from here into the repository's archive. */
  dir: string;
  /** Where a completed file goes is the method's: the stream's archive (name, for messages) and one pass moving the completed files there. */
  archive: string;
  settle(): Promise<Settled>;
  /** The receiver (pg_receivewal), its secret in the environment, never in argv. */
  call: ToolCall;
  synchronous: boolean;
  /** What the setup changed or found, one sentence each. */
  notes: string[];
}

/** Streaming the server's log into the repository as it is written (PostgreSQL: pg_receivewal and a slot). */
export interface EngineStream {
  /** Creates the slot (and with synchronous, makes the stream the synchronous standby); one sentence when the target cannot stream. */
  prepare(target: Target, opts: { synchronous: boolean }): Promise<StreamSetup>;
}

/** A stretch of time the restore picker asks about (ISO 8601, UTC). */
export interface CommitRange {
  from: string;
  to: string;
}

/**
 * The moments transactions committed inside a range, read from the archive (the restore picker
 * steps the chosen moment through them). Only the newest part of a long range is read, so each
 * answer says from when on its list is whole.
 */
export interface CommitMoments {
  /**
   * Commit times inside the range, oldest first, each once, written as a restore target takes
   * them: PostgreSQL's to the microsecond ("…:38.217919Z"), MariaDB's to the second ("…:38Z"),
   * all the binlog stores.
   */
  moments: string[];
  /** The list holds every commit from here to the range's end: the range's start, or later. */
  from: string;
  /** Why the list starts after the range's start, in words; absent when it covers the range. */
  partial?: string;
}

export interface EngineModule {
  readonly engine: Engine;
  /** How sentences name it: "PostgreSQL", "MySQL/MariaDB". */
  readonly label: string;
  /** The ways it takes backups; `native` always. */
  readonly methods: Readonly<Record<string, EngineMethod>>;
  /** The method a target runs (its own, else native); one sentence when the engine has no such method. */
  methodOf(target: Target): EngineMethod;
  /** Connects and reports version, archiving and privileges; throws one sentence when it cannot. */
  probe(target: Target): Promise<ProbeResult>;
  /** The backup tool's own reading of a backup's files (run after the checksums). */
  verifyStructure(ctx: EngineContext, m: Manifest, dir: string): Promise<CheckOutcome>;
  /** verify --restore: the backup restored into a scratch server and checked there. */
  restoreCheck(ctx: EngineContext, target: Target, m: Manifest, dir: string): Promise<CheckOutcome[]>;
  /** A logical backup loaded into a new database on the target's server, compared with its record. */
  logicalRestore(ctx: EngineContext, target: Target, m: Manifest, dir: string, req: LogicalRestoreRequest): Promise<LogicalRestoreReport>;
  /** What the repository can restore to: base backups, archive coverage, gaps. */
  readWindow(target: Target, signal?: AbortSignal): Promise<RecoverableWindow>;
  /**
   * The commit moments inside `range`, read from the archived log (PostgreSQL: commit records in
   * the WAL, read with pg_waldump; MariaDB: transactions in the archived binlogs). Throws one
   * sentence when the target's archive is one this cannot read.
   */
  commitMoments(target: Target, range: CommitRange, signal?: AbortSignal): Promise<CommitMoments>;
  /**
   * A point-in-time restore into a new directory and port: plan (refusing before anything is
   * written), check the destination, and unless req.dryRun restore, replay and prove the point reached.
   */
  pointInTimeRestore(ctx: EngineContext, target: Target, req: PitrRequest): Promise<PitrReport>;
  /** The drill's engine steps. */
  readonly drill: DrillEngine;
  /** Its archive in the repository, loaded on first use. */
  archive(): Promise<EngineArchive>;
  /**
   * The statements that make the server archive its log into the repository through dbdrill (and
   * with req.apply, runs them); an engine whose server archives otherwise refuses in one sentence.
   */
  enableArchiving(target: Target, req: ArchivingRequest): Promise<ArchivingPlan>;
  /** Health sampling of a target's server (loaded on first use). */
  healthSampler(target: Target, opts: EngineHealthOptions): Promise<EngineHealthSampler>;
  /** A throw-away server of this engine. */
  readonly sandbox: EngineSandbox;
  /** Present when dbdrill pulls the archive from the server (the registry row's archive is 'binlog'). */
  readonly archivePull?: EngineArchivePull;
  /** Present when the training scenarios run on this engine (the registry row's training). */
  readonly training?: EngineTraining;
  /** Present when the server's log can be streamed into the repository (`dbdrill stream`). */
  readonly stream?: EngineStream;
}
