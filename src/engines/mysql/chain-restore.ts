import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DbdrillError, invalid } from '../../errors.js';
import { BackupFiles } from '../../repo/backup-files.js';
import type { BackupType, Manifest } from '../../repo/manifest.js';
import { Repository } from '../../repo/repository.js';
import { runTool } from '../../runner/run.js';
import { findTool, type Tool } from '../../runner/tools.js';
import type { EngineContext } from '../context.js';
import { watchGrowth } from '../growth.js';
import { forwardToolEvents } from '../tool-events.js';
import { BACKUP_CNF, BINLOG_INFO_FILES, CHECKPOINTS_FILES, checkpointLsns, INCREMENTAL_TYPE, isSealedStream, parseBinlogInfo, PREPARED_TYPES, SEALED_STREAM, serverSettingsOf, type CheckpointLsns } from './backup-info.js';
import { findBackupTool } from './backup-tool.js';
import { lsnGapWords, MEMBER_DIR, TYPE_WORDS } from './chain.js';
import { majorMinor } from './dump-args.js';
import { checkServerReads, physicalRestoreSettings } from './physical-restore.js';

/** Wraps one phase of a chain restore (a drill times each; the default makes it a named step). */
export type StepHook = <T>(fn: () => Promise<T>) => Promise<T>;

export interface ChainRestoreHooks {
  /** Copying every member's files out of the repository, each checked against its sha256 on the way. */
  copy?: StepHook;
  /** Preparing the full's copy, when it was not prepared at backup time (dbdrill prepares fulls then). */
  prepare?: StepHook;
  /** Applying the diffs and incrs onto the full's copy, oldest first. */
  apply?: StepHook;
  /** Moving the prepared files into the new data directory. */
  moveBack?: StepHook;
}

export interface ChainMemberRead {
  id: string;
  type: BackupType;
  /** Bytes copied out of the repository (and checked) for this member. */
  bytes: number;
  /** Its LSN range, from its own (checked) checkpoints file. */
  lsns: CheckpointLsns;
}

export interface PreparedChain {
  /** The prepared files: mariadb-backup's target directory, ready for --move-back. */
  dir: string;
  members: ChainMemberRead[];
  /** Where the prepared files stand in the binlog (the last member's position), for replay to start at. */
  binlog: { binlogFile?: string; binlogPosition?: number; gtid?: string };
  /** Seconds spent applying the diffs and incrs (0 for a full alone). */
  applySeconds: number;
  /** The source's InnoDB settings, read from an encrypted full once unpacked. */
  settings?: Record<string, string>;
}

/**
 * Settings a server started on a restored chain needs, checked before anything is copied: the full
 * must be prepared and carry the source's InnoDB layout (backup-my.cnf), and the local mariadbd
 * must read the newest member's release series.
 */
export async function chainRestoreSettings(repoRoot: string, chain: readonly Manifest[]): Promise<Record<string, string>> {
  const full = chainFull(chain);
  const settings = await physicalRestoreSettings(full, new Repository(repoRoot).backupDir(full.id));
  if (chain.length > 1) await checkServerReads(chain.at(-1)!);
  return settings;
}

/**
 * A chain (chainForRestore's order: full first) restored into `dataDir`, which must not exist or
 * be empty: every member copied out of the repository into a work directory beside it (verified
 * while read, so a broken link stops the restore before any server starts, naming the member and
 * file, and marks that member corrupt), the LSN links checked on the copies, the diffs and incrs
 * applied onto the full's copy, then the prepared files moved into place. The repository is only
 * read: `--prepare --incremental-dir` moves an incremental's .delta and .new files away, so it only
 * ever sees copies. The work directory is removed whatever happens. Made to be a sandbox's populate.
 */
export async function restoreChainInto(ctx: EngineContext, repoRoot: string, chain: readonly Manifest[], dataDir: string, hooks: ChainRestoreHooks = {}): Promise<PreparedChain> {
  const work = join(dirname(dataDir), 'chain-restore');
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) throw invalid(`${dataDir} is not empty; a restore never writes over existing files.`);
  if (existsSync(work)) throw invalid(`${work} already exists (left by another restore?); remove it or restore into a new directory.`);
  try {
    const prepared = await prepareChain(ctx, repoRoot, chain, work, hooks);
    // An encrypted full's InnoDB layout is known only once unpacked (chainRestoreSettings had none).
    const cnf = join(prepared.dir, BACKUP_CNF);
    if (isSealedStream(chain[0]!) && existsSync(cnf)) prepared.settings = serverSettingsOf(readFileSync(cnf, 'utf8'));
    await (hooks.moveBack ?? ((fn) => ctx.step('move into data directory', fn)))(() => moveBack(ctx, prepared.dir, dataDir));
    return prepared;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Copies and prepares a chain in `workDir` (created here, left for the caller to remove): the
 * full's files in <workDir>/full, each later member's in <workDir>/<id> until it is applied.
 */
export async function prepareChain(ctx: EngineContext, repoRoot: string, chain: readonly Manifest[], workDir: string, hooks: ChainRestoreHooks = {}): Promise<PreparedChain> {
  const full = chainFull(chain);
  const tip = chain.at(-1)!;
  const { tool, version } = await findBackupTool(ctx.signal);
  if (majorMinor(version) !== majorMinor(full.serverVersion)) {
    throw invalid(
      `Backup ${tip.id} holds files of MariaDB ${full.serverVersion}, and ${tool.name} ${version} here prepares only its own release series' files; restore it on a host with ${tool.name} ${majorMinor(full.serverVersion)}.`,
    );
  }
  const repo = new Repository(repoRoot);
  const dirs = chain.map((m, i) => join(workDir, i === 0 ? 'full' : m.id));
  mkdirSync(workDir, { recursive: true, mode: 0o700 });

  const stopped = `before any server started on the chain of backup ${tip.id}`;
  const copied = await (hooks.copy ?? ((fn) => ctx.step('copy backup files', fn)))(async () => {
    const stop = watchGrowth(ctx, 'copying', workDir);
    try {
      const out: number[] = [];
      for (const [i, m] of chain.entries()) out.push(await copyMember(ctx, repo.backupDir(m.id), dirs[i]!, stopped));
      return out;
    } finally {
      stop();
    }
  });

  const members: ChainMemberRead[] = chain.map((m, i) => ({ id: m.id, type: m.type, bytes: copied[i]!, lsns: readLsns(m, dirs[i]!, tip.id) }));
  checkLinks(members, tip.id);

  const fullDir = dirs[0]!;
  if (!PREPARED_TYPES.has(members[0]!.lsns.backupType)) {
    await (hooks.prepare ?? ((fn) => ctx.step('prepare', fn)))(() => runTool({ tool, args: ['--no-defaults', '--prepare', `--target-dir=${fullDir}`], signal: ctx.signal, onEvent: forwardToolEvents(ctx) }));
  }

  let applySeconds = 0;
  if (chain.length > 1) {
    applySeconds = await (hooks.apply ?? ((fn) => ctx.step('apply incrementals', fn)))(() => applyMembers(ctx, tool, fullDir, members.slice(1), dirs.slice(1)));
  } else {
    ctx.emit({ type: 'step', step: 'apply incrementals', status: 'skipped', detail: `backup ${full.id} is a full backup` });
  }

  const binlog = readBinlogInfo(fullDir);
  const want = tip.mysql;
  if (want?.binlogFile !== undefined && (binlog.binlogFile !== want.binlogFile || binlog.binlogPosition !== want.binlogPosition)) {
    throw new DbdrillError(
      'failed',
      `The chain of backup ${tip.id} was applied, but its files stand at binlog ${binlog.binlogFile ?? 'none'}:${binlog.binlogPosition ?? '-'}, not at ${want.binlogFile}:${want.binlogPosition} as the backup recorded; the restore stopped before any server started.`,
      { backup: tip.id },
    );
  }
  return { dir: fullDir, members, binlog, applySeconds };
}

function chainFull(chain: readonly Manifest[]): Manifest {
  const full = chain[0];
  if (!full || full.type !== 'full') throw new DbdrillError('failed', `A chain to restore must start with a full backup${full ? `, not ${TYPE_WORDS[full.type]} backup ${full.id}` : ''}.`);
  return full;
}

/**
 * Copies one member's recorded files out of its <dir>/base into `dest`, each read once and checked
 * against the sha256 its manifest recorded (BackupFiles marks the member corrupt and names the file
 * when one differs). Directories are made first: an empty one is a schema without tables yet.
 */
async function copyMember(ctx: EngineContext, backupDir: string, dest: string, stopped: string): Promise<number> {
  const files = BackupFiles.at(backupDir);
  const prefix = `${MEMBER_DIR}/`;
  mkdirSync(dest, { recursive: true, mode: 0o700 });
  if (isSealedStream(files.m)) {
    // Encrypted: the member's stream decrypted (and checked) into mbstream -x in the restore's own work directory.
    files.needKey();
    const mbstream = await findTool('mbstream');
    await files.read(SEALED_STREAM, ctx.signal, stopped, (stream) => runTool({ tool: mbstream, args: ['-x', '-C', dest], stdin: { stream }, signal: ctx.signal, onEvent: forwardToolEvents(ctx) }));
    return files.m.files.find((f) => f.path === SEALED_STREAM)!.plain!.bytes;
  }
  makeDirs(join(backupDir, MEMBER_DIR), dest);
  let bytes = 0;
  for (const f of files.m.files.filter((x) => x.path.startsWith(prefix))) {
    const out = join(dest, f.path.slice(prefix.length));
    mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
    await files.read(f.path, ctx.signal, stopped, (stream) => pipeline(stream, createWriteStream(out, { mode: 0o600 })));
    bytes += f.bytes;
  }
  return bytes;
}

function makeDirs(from: string, to: string): void {
  if (!existsSync(from)) return;
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    mkdirSync(join(to, e.name), { recursive: true, mode: 0o700 });
    makeDirs(join(from, e.name), join(to, e.name));
  }
}

function readLsns(m: Manifest, dir: string, tipId: string): CheckpointLsns {
  const file = CHECKPOINTS_FILES.map((f) => join(dir, f)).find((p) => existsSync(p));
  const lsns = file ? checkpointLsns(readFileSync(file, 'utf8')) : undefined;
  if (!lsns) {
    throw new DbdrillError('failed', `Backup ${tipId} cannot be restored: member ${m.id} has no ${MEMBER_DIR}/xtrabackup_checkpoints with from_lsn and to_lsn; the restore stopped before any server started.`, { backup: tipId, member: m.id });
  }
  return lsns;
}

/** The copies' own checkpoints files must say full, then incrementals, each starting where the one before ended. */
function checkLinks(members: readonly ChainMemberRead[], tipId: string): void {
  const broken = (member: string, words: string) =>
    new DbdrillError('failed', `Backup ${tipId} cannot be restored: ${words}; the restore stopped before any server started.`, { backup: tipId, member });
  const [full, ...rest] = members;
  if (full!.lsns.backupType === INCREMENTAL_TYPE) throw broken(full!.id, `full backup ${full!.id} holds an incremental copy (backup_type = ${INCREMENTAL_TYPE})`);
  let prior = full!;
  for (const m of rest) {
    if (m.lsns.backupType !== INCREMENTAL_TYPE) throw broken(m.id, `${TYPE_WORDS[m.type]} backup ${m.id} holds backup_type = ${m.lsns.backupType}, not ${INCREMENTAL_TYPE}`);
    const gap = lsnGapWords({ id: prior.id, toLsn: prior.lsns.toLsn }, { id: m.id, type: m.type, fromLsn: m.lsns.fromLsn });
    if (gap) throw broken(m.id, gap);
    prior = m;
  }
}

/** Each diff/incr applied in order with --prepare --incremental-dir; each copy is removed once applied. */
async function applyMembers(ctx: EngineContext, tool: Tool, fullDir: string, members: readonly ChainMemberRead[], dirs: readonly string[]): Promise<number> {
  const t0 = performance.now();
  const total = members.reduce((n, m) => n + m.bytes, 0);
  let done = 0;
  for (const [i, m] of members.entries()) {
    ctx.emit({ type: 'progress', phase: 'applying incrementals', done, total, unit: 'bytes' });
    await runTool({
      tool,
      args: ['--no-defaults', '--prepare', `--target-dir=${fullDir}`, `--incremental-dir=${dirs[i]!}`],
      signal: ctx.signal,
      onEvent: forwardToolEvents(ctx),
    });
    rmSync(dirs[i]!, { recursive: true, force: true });
    done += m.bytes;
    ctx.emit({ type: 'log', level: 'info', text: `applied ${TYPE_WORDS[m.type]} backup ${m.id} (${i + 1} of ${members.length}), LSN ${m.lsns.fromLsn} to ${m.lsns.toLsn}` });
  }
  ctx.emit({ type: 'progress', phase: 'applying incrementals', done, total, unit: 'bytes' });
  return (performance.now() - t0) / 1000;
}

function readBinlogInfo(dir: string): PreparedChain['binlog'] {
  const file = BINLOG_INFO_FILES.map((f) => join(dir, f)).find((p) => existsSync(p));
  return file ? parseBinlogInfo(readFileSync(file, 'utf8')) : {};
}

/**
 * Moves prepared files into a new data directory with mariadb-backup --move-back: the files are
 * this restore's own copies, so moving them (a rename on one filesystem) beats copying them again;
 * --no-defaults keeps this host's my.cnf from sending InnoDB files anywhere but `dataDir`.
 */
export async function moveBack(ctx: EngineContext, preparedDir: string, dataDir: string): Promise<void> {
  const { tool } = await findBackupTool(ctx.signal);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  await runTool({ tool, args: ['--no-defaults', '--move-back', `--target-dir=${preparedDir}`, `--datadir=${dataDir}`], signal: ctx.signal, onEvent: forwardToolEvents(ctx) });
}
