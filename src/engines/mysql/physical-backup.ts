import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackupSink } from '../../crypto/sealed.js';
import type mysql from 'mysql2/promise';
import type { Target } from '../../config/target.js';
import { invalid } from '../../errors.js';
import { toolTooOld } from '../../runner/errors.js';
import { runTool } from '../../runner/run.js';
import { packageFor } from '../../runner/tools.js';
import type { BackupResult, RecordTool } from '../backup-result.js';
import type { EngineContext } from '../context.js';
import { watchGrowth } from '../growth.js';
import type { ProbeResult } from '../probe-types.js';
import { forwardToolEvents } from '../tool-events.js';
import { BINLOG_INFO_FILES, CHECKPOINTS_FILES, checkpointLsns, INFO_FILES, parseBinlogInfo, parseInfoBinlogPos, SEALED_STREAM } from './backup-info.js';
import { MEMBER_DIR, type ChainType } from './chain.js';
import { connectMysql } from './client.js';
import { isLocalHost, myConnArgs, mySecret } from './connection-args.js';
import { findBackupTool } from './backup-tool.js';
import { majorMinor, versionAtLeast } from './dump-args.js';
import { baseCheckpoints, checkIncremental, incrementalArgs, type ChainBase } from './incremental-backup.js';

export const PHYSICAL_FORMAT = 'mariadb-backup';

export interface MyPhysicalOptions {
  jobs?: number;
  recordTool?: RecordTool;
  /**
   * Take a diff or incr against this backup (chainBaseFor picks it): only the pages changed since
   * it are copied, and the copy is left unprepared, to be applied onto its full at restore time.
   */
  base?: ChainBase & { type: ChainType };
  /** An encrypting sink takes the backup as one xbstream on stdout (see SEALED_STREAM). */
  sink?: BackupSink;
}

/**
 * mariadb-backup --backup into <dir>/base, then --prepare, so the directory is a consistent data
 * directory a server can start on (given the binlogs after it for point-in-time recovery). With
 * opts.base, a diff or incr instead: the pages changed since that backup, unprepared. The
 * tool copies the server's files itself, so it must run on the server's host and be able to read
 * its data directory; it talks to the server (over TCP, the password in its option file) only to
 * take the backup locks and read the binlog position, which it writes to xtrabackup_binlog_info.
 */
export async function myPhysicalBackup(ctx: EngineContext, target: Target, probe: ProbeResult, dir: string, opts: MyPhysicalOptions = {}): Promise<BackupResult> {
  if (probe.flavor !== 'mariadb') {
    throw invalid(`Physical backups of MySQL servers need Percona XtraBackup, which dbdrill does not drive yet; use --kind logical for target "${target.name}".`);
  }
  if (!isLocalHost(target.host)) {
    throw invalid(
      `mariadb-backup copies the server's data directory, so it must run on the database host, but target "${target.name}" is at ${target.host}; run dbdrill on that host with a target at 127.0.0.1, or use --kind logical.`,
    );
  }
  const { tool, version } = await findBackupTool(ctx.signal);
  if (majorMinor(version) !== majorMinor(probe.serverVersion)) {
    // InnoDB's on-disk formats change between release series; mariadb-backup reads only its own.
    if (!versionAtLeast(version, majorMinor(probe.serverVersion))) throw toolTooOld(tool.name, version, probe.serverVersion, packageFor(tool.name));
    throw invalid(
      `${tool.name} ${version} cannot back up MariaDB ${probe.serverVersion}: it must come from the server's own release series (${majorMinor(probe.serverVersion)}); install the ${packageFor(tool.name)} package that matches the server.`,
    );
  }

  const layout = await serverLayout(target);
  try {
    accessSync(layout.datadir, constants.R_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw invalid(
      code === 'ENOENT'
        ? `The server's data directory ${layout.datadir} is not on this machine, so mariadb-backup cannot copy it; run dbdrill on the database host, or use --kind logical.`
        : `dbdrill cannot read the server's data directory ${layout.datadir} (${code}); run the backup as root or as the server's system user (mysql).`,
    );
  }

  const chainBase = opts.base;
  const baseLsns = chainBase ? await ctx.step('check base backup', () => baseCheckpoints(chainBase, chainBase.type)) : undefined;
  const base = join(dir, MEMBER_DIR);
  const sealed = opts.sink?.encryptTo ? opts.sink : undefined;
  if (sealed) mkdirSync(base, { mode: 0o700 });
  const args = [
    ...myConnArgs(target),
    '--backup',
    `--target-dir=${base}`,
    // Encrypted: the copy goes to stdout into age, and --extra-lsndir keeps beside it in plain the
    // checkpoints (LSNs) and xtrabackup_info (binlog position, times, the tool's flags): no row
    // data, and what verify, planning and a later chain read without the key.
    ...(sealed ? ['--stream=xbstream', `--extra-lsndir=${base}`] : []),
    `--datadir=${layout.datadir}`,
    ...layout.innodb,
    ...((opts.jobs ?? 1) > 1 ? [`--parallel=${opts.jobs}`] : []),
    ...(chainBase ? incrementalArgs(chainBase) : []),
  ];
  const toolRecord = { name: tool.name, version, argv: [tool.path, ...args] };
  opts.recordTool?.(toolRecord, sealed ? { appendOnly: [SEALED_STREAM] } : undefined);
  const stopWatch = watchGrowth(ctx, 'copying', base);
  try {
    await ctx.step('copy data files', () =>
      sealed
        ? sealed.fromStdout({ tool, args, secret: mySecret(target) }, SEALED_STREAM, { signal: ctx.signal, onEvent: forwardToolEvents(ctx) })
        : runTool({ tool, args, secret: mySecret(target), signal: ctx.signal, onEvent: forwardToolEvents(ctx) }).then(() => undefined),
    );
  } finally {
    stopWatch();
  }
  // The tool reads the binlog position while it holds commits (BACKUP STAGE BLOCK_COMMIT), just
  // before it exits: the end of the copy is a bound on that moment that is late, never early.
  const copiedAt = new Date().toISOString();
  // --prepare applies the redo log copied alongside, as crash recovery would: afterwards the files
  // are consistent as of the backup's end, and restoring is a plain copy. An incremental cannot be
  // prepared on its own: a restore applies it onto a prepared copy of its full (chain-restore.ts).
  // Encrypted, the stream is prepared where a restore unpacks it (its plaintext belongs there only).
  if (!chainBase && !sealed) await ctx.step('prepare', () => runTool({ tool, args: ['--prepare', `--target-dir=${base}`], signal: ctx.signal, onEvent: forwardToolEvents(ctx) }));
  const cpFile = CHECKPOINTS_FILES.map((f) => join(base, f)).find((p) => existsSync(p));
  const lsns = cpFile ? checkpointLsns(readFileSync(cpFile, 'utf8')) : undefined;
  if (chainBase) checkIncremental(lsns, baseLsns!, chainBase.manifest.id);

  const infoFile = BINLOG_INFO_FILES.map((f) => join(base, f)).find((p) => existsSync(p));
  const coords = sealed ? sealedCoords(base, sealed) : infoFile ? parseBinlogInfo(readFileSync(infoFile, 'utf8')) : {};
  if (probe.archiving.enabled && coords.binlogFile === undefined) {
    ctx.emit({ type: 'log', level: 'warn', text: `${tool.name} recorded no binlog position; point-in-time recovery cannot start from this backup` });
  }
  const lsnFields = lsns ? { fromLsn: lsns.fromLsn, toLsn: lsns.toLsn, ...(lsns.lastLsn ? { lastLsn: lsns.lastLsn } : {}) } : {};
  const mysqlFields = { ...coords, ...(coords.binlogFile !== undefined ? { consistentAt: copiedAt } : {}), ...lsnFields };
  return {
    tool: toolRecord,
    format: PHYSICAL_FORMAT,
    ...(chainBase ? { prior: chainBase.manifest.id } : {}),
    ...(Object.keys(mysqlFields).length > 0 ? { mysql: mysqlFields } : {}),
  };
}

/**
 * The binlog position of an encrypted backup, from the xtrabackup_info that --extra-lsndir wrote
 * (xtrabackup_binlog_info is only inside the stream); both files are declared plain on purpose.
 */
function sealedCoords(base: string, sink: BackupSink): ReturnType<typeof parseBinlogInfo> {
  // Only these two by name: anything else the tool left in plain fails the backup (backup.ts).
  for (const name of [...CHECKPOINTS_FILES, ...INFO_FILES]) if (existsSync(join(base, name))) sink.declarePlain(`${MEMBER_DIR}/${name}`);
  const info = INFO_FILES.map((f) => join(base, f)).find((p) => existsSync(p));
  return info ? parseInfoBinlogPos(readFileSync(info, 'utf8')) : {};
}

/** Where the server keeps its files; passed on explicitly so no my.cnf on this host can mislead the tool. */
async function serverLayout(target: Target): Promise<{ datadir: string; innodb: string[] }> {
  const conn = await connectMysql(target, { dbname: null });
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT @@datadir AS datadir, @@innodb_data_home_dir AS data_home, @@innodb_log_group_home_dir AS log_home,
              @@innodb_undo_directory AS undo_dir, @@innodb_data_file_path AS data_file_path`,
    );
    const r = rows[0]!;
    const innodb: string[] = [];
    const add = (flag: string, v: unknown) => {
      if (typeof v === 'string' && v !== '') innodb.push(`--${flag}=${v}`);
    };
    add('innodb-data-home-dir', r.data_home);
    add('innodb-log-group-home-dir', r.log_home);
    add('innodb-undo-directory', r.undo_dir);
    add('innodb-data-file-path', r.data_file_path);
    return { datadir: String(r.datadir).replace(/\/+$/, ''), innodb };
  } finally {
    await conn.end().catch(() => {});
  }
}
