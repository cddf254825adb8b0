import { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { invalid } from '../errors.js';
import { isPidAlive } from '../runner/process.js';
import { RESTORE_CLAIM } from '../sandbox/dirs.js';
import { canBind } from '../sandbox/ports.js';
import { isRoot, serverAccount } from '../sandbox/users.js';
import { blockedFor } from '../wal/command.js';

/**
 * The file a restore creates (O_EXCL) in its destination before it writes anything else: of two
 * restores into the same directory at the same moment, exactly one creates it, the other is
 * refused. It stays as the record of who restored what into the directory, and when.
 */
export { RESTORE_CLAIM };

export interface DestinationRequest {
  /** The directory the restore writes (PostgreSQL: the data directory; MariaDB: the instance directory). */
  dir: string;
  port: number;
  /** The system account the restored server runs as when dbdrill runs as root. */
  server: 'postgres' | 'mysql';
  /** The target's repository: a restore never writes into it (a scratch directory has none to name). */
  repo?: string;
  /** Files in a non-empty destination that show a server may be running there. */
  serverTraces: string[];
  /** Real runs claim the directory; a dry run only checks (and writes nothing). */
  claim?: { target: string; backup?: string };
}

/**
 * Everything that can make a restore destination unusable, checked the same way for the dry run
 * and the real run, before anything is written: inside the repository or a database's data
 * directory, a server user that cannot reach it, not a directory, not empty (or claimed by another
 * restore), a port the server may not bind or that is busy. A real run then claims the directory.
 */
export async function checkRestoreDestination(req: DestinationRequest): Promise<void> {
  const dir = resolve(req.dir);
  const real = realish(dir);
  if (req.repo !== undefined && inside(real, realish(resolve(req.repo)))) {
    throw invalid(`${dir} is inside the target's repository ${req.repo}; a restore never writes into the backups it reads, so give --into a directory outside it.`);
  }
  const dataDir = enclosingDataDir(dir);
  if (dataDir) {
    throw invalid(
      `${dir} is inside the ${dataDir.engine} data directory ${dataDir.path}${dataDir.live ? ' (a server is running there)' : ''}; a restore never writes into a database's own files, so give --into a directory outside it.`,
    );
  }
  checkServerCanReach(dir, req.server);
  checkEmpty(dir, req.serverTraces);
  await checkPort(req.port, req.server);
  if (req.claim) claimDirectory(dir, req.claim, req.serverTraces);
}

/** The real path of `p`, or of its nearest existing ancestor with the rest appended. */
function realish(p: string): string {
  const rest: string[] = [];
  for (let cur = p; ; cur = dirname(cur)) {
    try {
      return join(realpathSync(cur), ...rest.reverse());
    } catch {
      if (dirname(cur) === cur) return p;
      rest.push(basename(cur));
    }
  }
}

function inside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/**
 * The PostgreSQL or MariaDB data directory that holds `dir`, found by the files every such
 * directory has. Found on disk, so the source is never contacted, and any server on this host is
 * covered, the target's own included. (`dir` being a data directory itself is "not empty".)
 */
export function enclosingDataDir(dir: string): { engine: string; path: string; live: boolean } | undefined {
  for (let p = dirname(realish(resolve(dir))); ; p = dirname(p)) {
    if (existsSync(join(p, 'PG_VERSION')) && existsSync(join(p, 'global'))) return { engine: 'PostgreSQL', path: p, live: existsSync(join(p, 'postmaster.pid')) };
    if (existsSync(join(p, 'aria_log_control')) || (existsSync(join(p, 'ibdata1')) && existsSync(join(p, 'mysql')))) {
      return { engine: 'MariaDB', path: p, live: readdirSafe(p).some((f) => f.endsWith('.pid')) };
    }
    if (dirname(p) === p) return undefined;
  }
}

function readdirSafe(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}

/** The nearest part of `dir` (itself or an ancestor) that exists. */
function nearestExisting(dir: string): string {
  let p = dir;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/**
 * Up front, what would otherwise fail after gigabytes were unpacked: as root, the server runs as
 * its own account, which must be able to walk down to the directory; as anyone else, the caller
 * must be able to create it.
 */
function checkServerCanReach(dir: string, server: 'postgres' | 'mysql'): void {
  const existing = nearestExisting(dir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) return; // said by checkEmpty
  if (isRoot()) {
    const account = serverAccount(server)!;
    // blockedFor looks at the directories above its argument; the destination itself is chowned.
    const blocked = blockedFor(existing === dir ? dir : join(existing, '_'), account.uid, account.gid);
    if (blocked) {
      throw invalid(
        `The restored server runs as the ${account.name} user, which cannot enter ${blocked} (mode ${(statSync(blocked).mode & 0o777).toString(8).padStart(4, '0')}); give --into a directory that user can reach, e.g. under /srv or /var/tmp.`,
      );
    }
    return;
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw invalid(`${existing === dir ? dir : `${existing}, where ${dir} would be created,`} is not writable by this user (uid ${process.getuid?.()}); give --into a directory you can write.`);
  }
}

/**
 * The claim's contents. A claim is created, then written: a restore racing for the same directory
 * can read it empty in between (a CI run did), so an unreadable claim is read again for a moment.
 */
function readClaim(file: string): { pid?: number; host?: string; startedAt?: string; target?: string } {
  for (let attempt = 0; ; attempt++) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as { pid?: number; host?: string; startedAt?: string; target?: string };
    } catch (e) {
      if (attempt >= 20) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

function describeClaim(file: string): string {
  try {
    const c = readClaim(file);
    const running = c.host === hostname() && typeof c.pid === 'number' && isPidAlive(c.pid);
    return running
      ? `another restore (pid ${c.pid}${c.target ? `, target ${c.target}` : ''}, started ${c.startedAt ?? '?'}) is writing into it`
      : `it holds ${RESTORE_CLAIM} of an earlier restore (pid ${c.pid ?? '?'}, started ${c.startedAt ?? '?'}) that is not running here now; remove that file (or the directory) to restore there again`;
  } catch {
    return `it holds ${RESTORE_CLAIM} (another restore claimed it)`;
  }
}

function checkEmpty(dir: string, serverTraces: string[]): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw invalid(`${dir} exists and is not a directory; give --into a new or empty directory.`);
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  if (entries.includes(RESTORE_CLAIM) && entries.length === 1) throw invalid(`${dir} cannot be used: ${describeClaim(join(dir, RESTORE_CLAIM))}; give --into another directory.`);
  const running = entries.some((e) => serverTraces.includes(e)) ? ' and holds a server directory (one may be running there)' : '';
  throw invalid(`${dir} is not empty${running}; a restore never writes over existing files, so give --into a new or empty directory.`);
}

/** Where unprivileged processes may listen from (Linux: net.ipv4.ip_unprivileged_port_start). */
function unprivilegedPortStart(): number {
  try {
    const n = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
    return Number.isInteger(n) ? n : 1024;
  } catch {
    return 1024;
  }
}

async function checkPort(port: number, server: 'postgres' | 'mysql'): Promise<void> {
  // The restored server never runs as root (PostgreSQL refuses to; MariaDB switches to its user),
  // so root binding the port in this check proves nothing about the server.
  const floor = unprivilegedPortStart();
  if (port < floor) {
    const who = isRoot() ? `the ${server} user` : `this user (uid ${process.getuid?.()})`;
    throw invalid(`Port ${port} is below ${floor}, where only root may listen, and the restored server runs as ${who}; give --port ${floor} or above.`);
  }
  if (!(await canBind(port))) throw invalid(`Port ${port} is already in use on 127.0.0.1; give --port a free port.`);
}

/**
 * Claims the directory: created here (mkdir of the directory itself is atomic) or, when it exists
 * empty, taken by creating the claim file with O_EXCL. As root, parents this creates stay
 * searchable (0711), since the server's account must pass through them.
 */
function claimDirectory(dir: string, who: { target: string; backup?: string }, serverTraces: string[]): void {
  const parent = dirname(dir);
  if (!existsSync(parent)) {
    const first = mkdirSync(parent, { recursive: true, mode: 0o711 });
    if (first && isRoot()) for (let p = parent; inside(p, first); p = dirname(p)) chmodSync(p, 0o711);
  }
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const file = join(dir, RESTORE_CLAIM);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw invalid(`${dir} cannot be used: ${describeClaim(file)}; give --into another directory.`);
    throw e;
  }
  try {
    writeSync(fd, `${JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), ...who }, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  // Something else wrote there between the check and the claim: not ours after all.
  const others = readdirSync(dir).filter((e) => e !== RESTORE_CLAIM);
  if (others.length > 0) {
    rmSync(file, { force: true });
    checkEmpty(dir, serverTraces);
  }
}
