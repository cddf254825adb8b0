import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Target } from '../../../config/target.js';
import { DbdrillError, invalid } from '../../../errors.js';
import { isRoot } from '../../../sandbox/users.js';
import { connectPostgres } from '../client.js';

/** The server as pgBackRest must reach it: by its data directory and Unix socket on this host. */
export interface LocalServer {
  dataDir: string;
  socketDir: string;
  /** The port the server itself listens on (the target may name a pooler's). */
  port: number;
  systemId: string;
  serverVersion: string;
  serverMajor: number;
  /** Owner of the data directory: the account pgBackRest runs as, like the server's archive_command. */
  owner: { uid: number; gid: number };
}

interface Row {
  data_directory: string;
  sockets: string;
  port: string;
  system_id: string;
  version: string;
  num: string;
}

/**
 * Asks the server where it keeps its data (SHOW data_directory, which needs superuser or
 * pg_read_all_settings) and its socket, then proves that directory is on this machine and is
 * that server's: pgBackRest copies the data directory's files itself, so a server that dbdrill
 * reaches only over the network cannot use this method.
 */
export async function discoverLocalServer(target: Target): Promise<LocalServer> {
  const client = await connectPostgres(target);
  let row: Row;
  try {
    const { rows } = await client.query<Row>(`
      SELECT current_setting('data_directory') AS data_directory,
             current_setting('unix_socket_directories') AS sockets,
             current_setting('port') AS port,
             (SELECT system_identifier::text FROM pg_control_system()) AS system_id,
             split_part(current_setting('server_version'), ' ', 1) AS version,
             current_setting('server_version_num') AS num`);
    row = rows[0]!;
  } catch (e) {
    if ((e as { code?: string }).code === '42501') {
      throw invalid(`User "${target.user}" of target "${target.name}" may not read data_directory, which pgBackRest needs; GRANT pg_read_all_settings TO ${target.user} (or use a superuser).`);
    }
    throw e;
  } finally {
    await client.end().catch(() => {});
  }
  const socketDir = firstSocketDir(row.sockets);
  if (!socketDir) {
    throw invalid(`The server of target "${target.name}" listens on no Unix socket (unix_socket_directories = '${row.sockets}'), and pgBackRest connects through one; set unix_socket_directories on the server.`);
  }
  const owner = checkLocalDataDir(target.name, row.data_directory, row.system_id);
  return {
    dataDir: row.data_directory,
    socketDir,
    port: Number(row.port),
    systemId: row.system_id,
    serverVersion: row.version,
    serverMajor: Math.floor(Number(row.num) / 10000),
    owner,
  };
}

/** The first usable entry of unix_socket_directories (absolute; not an abstract "@name"). */
export function firstSocketDir(setting: string): string | undefined {
  for (const raw of setting.split(',')) {
    const dir = raw.trim().replace(/^"(.*)"$/, '$1');
    if (dir && isAbsolute(dir)) return dir;
  }
  return undefined;
}

/** pg_control begins with the cluster's system identifier, a 64-bit integer in host byte order. */
export function controlSystemId(pgControl: Buffer): string {
  return pgControl.readBigUInt64LE(0).toString();
}

/**
 * The data directory's owner, once it is shown to be on this host and to hold the target's
 * cluster. A remote server often reports the same path as a local one (/var/lib/postgresql/15/main),
 * so the system identifier in its pg_control decides, not the path.
 */
export function checkLocalDataDir(targetName: string, dataDir: string, systemId: string): { uid: number; gid: number } {
  const remote = `pgBackRest copies the data directory itself, so run dbdrill on the database host (or keep the native method for a server reached only over the network)`;
  let st;
  try {
    st = statSync(dataDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw invalid(`The server of target "${targetName}" keeps its data in ${dataDir}, which is not on this machine; ${remote}.`, { dataDir });
    }
    throw unreadable(dataDir, code);
  }
  let local: string;
  try {
    local = controlSystemId(readHead(join(dataDir, 'global', 'pg_control'), 8));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`${dataDir} on this machine is not a PostgreSQL data directory (no global/pg_control), so the server of target "${targetName}" is elsewhere; ${remote}.`, { dataDir });
    throw unreadable(dataDir, code);
  }
  if (local !== systemId) {
    throw invalid(
      `${dataDir} on this machine holds another cluster (system id ${local}) than the server of target "${targetName}" (system id ${systemId}), which is elsewhere; ${remote}.`,
      { dataDir, localSystemId: local, serverSystemId: systemId },
    );
  }
  return { uid: st.uid, gid: st.gid };
}

/**
 * Whom pgBackRest runs as: the data directory's owner, as the server's archive_command does, so
 * that every file in the repository, spool and lock directories has one owner. Root switches to
 * that user; anyone else must be that user.
 */
export function runAsFor(owner: { uid: number; gid: number }, dataDir: string): { uid: number; gid: number } | undefined {
  if (isRoot()) return owner.uid === 0 ? undefined : owner;
  if (process.getuid?.() === owner.uid) return undefined;
  throw invalid(`pgBackRest must run as the owner of ${dataDir} (uid ${owner.uid}), the user the server's archive_command runs as; run dbdrill as root or as that user.`);
}

function readHead(file: string, bytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    if (readSync(fd, buf, 0, bytes, 0) !== bytes) throw new DbdrillError('failed', `${file} is shorter than ${bytes} bytes; the data directory is damaged.`);
    return buf;
  } finally {
    closeSync(fd);
  }
}

function unreadable(dataDir: string, code: string | undefined): DbdrillError {
  return invalid(`dbdrill cannot read ${dataDir} (${code ?? 'unknown error'}), which pgBackRest must read; run dbdrill as root or as the owner of the data directory.`, { dataDir });
}
