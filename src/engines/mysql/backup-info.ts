/**
 * Files mariadb-backup writes into its target directory, read as pure functions:
 *   xtrabackup_binlog_info   "mysql-bin.000001\t502593\t0-1-33" (file, position, GTID if any);
 *                            MariaDB 11 names it mariadb_backup_binlog_info
 *   xtrabackup_checkpoints   "backup_type = full-backuped" … after --prepare "log-applied"
 *                            (older releases: "full-prepared"); an incremental says
 *                            "incremental". from_lsn/to_lsn: the InnoDB checkpoint LSNs the copy
 *                            covers (an incremental's from_lsn is its base's to_lsn); last_lsn: the
 *                            end of the redo log copied with it
 */
export const BINLOG_INFO_FILES = ['mariadb_backup_binlog_info', 'xtrabackup_binlog_info'];
export const CHECKPOINTS_FILES = ['mariadb_backup_checkpoints', 'xtrabackup_checkpoints'];

/** backup_type values of a prepared (restorable) full backup, across releases. */
export const PREPARED_TYPES = new Set(['full-prepared', 'log-applied']);

export function parseBinlogInfo(text: string): { binlogFile?: string; binlogPosition?: number; gtid?: string } {
  const line = text.split('\n').find((l) => l.trim() !== '');
  if (!line) return {};
  const [file, pos, gtid] = line.trim().split(/\t+|\s+/);
  const out: { binlogFile?: string; binlogPosition?: number; gtid?: string } = {};
  if (file) out.binlogFile = file;
  if (pos && /^\d+$/.test(pos)) out.binlogPosition = Number(pos);
  if (gtid) out.gtid = gtid;
  return out;
}

/**
 * An encrypted physical backup: mariadb-backup --stream=xbstream, stored through age as this one
 * file, beside the plain checkpoints and info that --extra-lsndir wrote into base/.
 */
export const SEALED_STREAM = 'base/backup.xbstream';

/** Whether a physical backup is the encrypted stream (prepared only where a restore unpacks it). */
export function isSealedStream(m: { files: readonly { path: string; plain?: unknown }[] }): boolean {
  return m.files.some((f) => f.path === SEALED_STREAM && f.plain !== undefined);
}

/** What --extra-lsndir writes beside the checkpoints: the backup's summary, binlog_pos among it. */
export const INFO_FILES = ['mariadb_backup_info', 'xtrabackup_info'];

/**
 * binlog_pos of an xtrabackup_info: "filename 'mysql-bin.000001', position '500947', GTID of the
 * last change '0-1-25'" (the GTID part only when the server has one).
 */
export function parseInfoBinlogPos(text: string): { binlogFile?: string; binlogPosition?: number; gtid?: string } {
  const line = text.split('\n').find((l) => /^\s*binlog_pos\s*=/.test(l));
  if (!line) return {};
  const file = /filename '([^']+)'/.exec(line)?.[1];
  const pos = /position '(\d+)'/.exec(line)?.[1];
  const gtid = /GTID of the last change '([^']*)'/.exec(line)?.[1];
  return { ...(file ? { binlogFile: file } : {}), ...(pos ? { binlogPosition: Number(pos) } : {}), ...(gtid ? { gtid } : {}) };
}

export function parseCheckpoints(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** backup_type of an incremental (or differential) backup, which only its full's prepare can use. */
export const INCREMENTAL_TYPE = 'incremental';

/** What a checkpoints file says about the LSN range of its copy; LSNs as decimal text (they are 64-bit). */
export interface CheckpointLsns {
  backupType: string;
  fromLsn: string;
  toLsn: string;
  lastLsn?: string;
}

const LSN_RE = /^\d{1,20}$/;

/** The LSN range of a checkpoints file; undefined when backup_type, from_lsn or to_lsn is missing or not a number. */
export function checkpointLsns(text: string): CheckpointLsns | undefined {
  const cp = parseCheckpoints(text);
  const { backup_type: backupType, from_lsn: fromLsn, to_lsn: toLsn, last_lsn: lastLsn } = cp;
  if (!backupType || !fromLsn || !toLsn || !LSN_RE.test(fromLsn) || !LSN_RE.test(toLsn)) return undefined;
  return { backupType, fromLsn, toLsn, ...(lastLsn && LSN_RE.test(lastLsn) ? { lastLsn } : {}) };
}

/** The options file mariadb-backup writes beside the data: the source's InnoDB file layout. */
export const BACKUP_CNF = 'backup-my.cnf';

/**
 * Settings a server started on the backup's files must share with the source, from backup-my.cnf:
 * a different page size or system tablespace layout makes mariadbd refuse the files, and undo
 * tablespaces must be looked for. Everything else in the file is left to the server's defaults.
 */
const CARRIED = ['innodb_page_size', 'innodb_data_file_path', 'innodb_undo_tablespaces'];

export function serverSettingsOf(backupCnf: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inServer = false;
  for (const raw of backupCnf.split('\n')) {
    const line = raw.trim();
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      inServer = /^(mysqld|server|mariadb)$/i.test(section[1]!.trim());
      continue;
    }
    const m = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    if (!inServer || !m) continue;
    const key = m[1]!.replace(/-/g, '_').toLowerCase();
    if (CARRIED.includes(key) && m[2] !== '') out[key] = m[2]!;
  }
  return out;
}
