import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import type { PitrReport } from '../engines/restore-types.js';
import type { RestoreTarget } from '../pitr/time.js';
import { writeFileAtomic } from '../repo/atomic.js';
import { isPidAlive, pidMatches, signalProcess, waitForPidExit } from '../runner/process.js';
import { RESTORE_CLAIM } from '../sandbox/dirs.js';
import { isoTime, loose, nonEmptyText, parseWith, positive } from '../util/schema.js';
import { checkFormat, damaged, readJsonFile, type FileFormat } from '../util/untrusted-file.js';

/**
 * Servers a point-in-time restore left running (the restore's whole point: someone looks at the
 * data). One file per server in <config>/restored/, written when the restore succeeds, so the
 * console can list and stop them and `sandbox stop` can find what the sandbox's restores left.
 */
export interface RestoredServer {
  /** dbdrill-restore-<target>-<moment>: the record's file name, and PostgreSQL's cluster_name. */
  name: string;
  target: string;
  /** The restore's own directory (the data directory for PostgreSQL, the instance root for MariaDB). */
  dir: string;
  port: number;
  pid: number;
  startedAt: string;
  /** What was asked: a time, latest, an LSN … */
  to: string;
}

export interface RestoredServerState extends RestoredServer {
  running: boolean;
  /** Bytes under dir now (0 once it is removed). */
  bytes: number;
}

const FORMAT: FileFormat = { what: 'a dbdrill restored-server record', versionKey: 'formatVersion', version: 1 };
const Schema = loose({
  formatVersion: v.literal(1),
  name: nonEmptyText(),
  target: nonEmptyText(),
  dir: nonEmptyText(),
  port: positive(),
  pid: positive(),
  startedAt: isoTime(),
  to: v.string(),
});

const PREFIX = 'dbdrill-restore-';
/** PostgreSQL cuts cluster_name at NAMEDATALEN - 1 bytes. */
const MAX_NAME = 63;

function recordsDir(configDir: string): string {
  return join(configDir, 'restored');
}

/** "20261207T015700Z" */
function stampOf(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * What a restored server is called: the target and the moment it was restored to (latest, or the
 * restore's own start for an LSN, xid or GTID target), within PostgreSQL's 63 bytes.
 */
export function restoredServerName(target: string, to: RestoreTarget, now = new Date()): string {
  const moment = to.kind === 'time' ? stampOf(to.at) : to.kind === 'latest' ? `latest-${stampOf(now)}` : stampOf(now);
  const room = MAX_NAME - PREFIX.length - moment.length - 1;
  return `${PREFIX}${target.slice(0, room)}-${moment}`;
}

/** Records a restore that left its server running (a dry run or a report without a pid: nothing). */
export function recordRestoredServer(configDir: string, name: string, report: PitrReport, dir: string, to: string): void {
  if (report.dryRun || report.pid === undefined) return;
  const rec: RestoredServer = { name, target: report.target, dir, port: report.port, pid: report.pid, startedAt: new Date().toISOString(), to };
  mkdirSync(recordsDir(configDir), { recursive: true, mode: 0o700 });
  writeFileAtomic(join(recordsDir(configDir), `${name}.json`), `${JSON.stringify({ formatVersion: 1, ...rec }, null, 2)}\n`);
}

/** Total size of the files under `path` (symbolic links counted as links, not followed). */
export function treeBytes(path: string): number {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let sum = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync(path);
  } catch {
    return 0;
  }
  for (const e of entries) sum += treeBytes(join(path, e));
  return sum;
}

function readRecord(file: string): RestoredServer {
  const raw = readJsonFile(file);
  const { formatVersion: _f, ...rec } = parseWith(Schema, checkFormat(raw, file, FORMAT), file);
  if (`${rec.name}.json` !== file.split('/').pop()) throw damaged(file, `name is "${rec.name}", but the file is named otherwise`);
  return rec;
}

/**
 * The restored servers on record, newest first, of one target or all: whether each still runs
 * (its pid is a process in its directory, not a recycled pid) and what it takes on disk.
 */
export function listRestoredServers(configDir: string, target?: string): RestoredServerState[] {
  const dir = recordsDir(configDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => readRecord(join(dir, f)))
    .filter((r) => target === undefined || r.target === target)
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
    .map((r) => ({ ...r, running: pidMatches(r.pid, r.dir), bytes: treeBytes(r.dir) }));
}

/**
 * Stops one restored server and waits for it: SIGTERM first (PostgreSQL's smart and MariaDB's
 * normal shutdown), SIGINT after 10 s (PostgreSQL's fast shutdown: sessions left open by a
 * client are cut), and SIGKILL to the whole tree after 30 s. Its files stay.
 */
export async function stopRestoredServer(configDir: string, name: string): Promise<RestoredServerState> {
  const rec = listRestoredServers(configDir).find((r) => r.name === name);
  if (!rec) throw damaged(join(recordsDir(configDir), `${name}.json`), 'is missing');
  if (rec.running) {
    signalProcess(rec.pid, 'SIGTERM');
    if (!(await waitForPidExit(rec.pid, 10_000))) {
      signalProcess(rec.pid, 'SIGINT');
      if (!(await waitForPidExit(rec.pid, 20_000)) && isPidAlive(rec.pid)) signalProcess(rec.pid, 'SIGKILL', { tree: true });
      await waitForPidExit(rec.pid, 5_000);
    }
  }
  return { ...rec, running: pidMatches(rec.pid, rec.dir), bytes: treeBytes(rec.dir) };
}

/**
 * Removes a stopped restored server's directory and its record. Only a directory the restore
 * claimed (it holds the claim file restore writes first) is removed, so a hand-edited record
 * cannot point the removal anywhere else.
 */
export function removeRestoredServer(configDir: string, rec: RestoredServer): void {
  if (pidMatches(rec.pid, rec.dir)) throw damaged(join(recordsDir(configDir), `${rec.name}.json`), `names a server that still runs (pid ${rec.pid}); stop it first`);
  if (existsSync(rec.dir)) {
    if (!existsSync(join(rec.dir, RESTORE_CLAIM))) {
      throw damaged(join(recordsDir(configDir), `${rec.name}.json`), `names ${rec.dir}, which holds no ${RESTORE_CLAIM}, so it was not removed`);
    }
    rmSync(rec.dir, { recursive: true, force: true, maxRetries: 2, retryDelay: 100 });
  }
  rmSync(join(recordsDir(configDir), `${rec.name}.json`), { force: true });
}
