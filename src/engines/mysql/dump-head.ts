import { open } from 'node:fs/promises';

/**
 * What a mariadb-dump / mysqldump file says about itself at its two ends. The coordinates are
 * written near the top (--master-data=2 / --source-data=2); MariaDB's --gtid puts the GTID near
 * the bottom ("deferred"), MySQL's GTID_PURGED sits near the top; "-- Dump completed" is the
 * last line of a dump that finished. Only the ends are read, never the whole (possibly huge) file.
 */
export interface DumpHead {
  /** "MariaDB dump 10.19  Distrib 10.11.18-MariaDB, for debian-linux-gnu (x86_64)" */
  tool?: string;
  /** From "-- Host: …    Database: shop". */
  database?: string;
  /** From "-- Server version\t10.11.18-MariaDB-0+deb12u1-log". */
  serverVersion?: string;
  binlogFile?: string;
  binlogPosition?: number;
  gtid?: string;
}

export interface DumpTail {
  gtid?: string;
  /** The dump ran to its end (the tool writes this line last). */
  completed: boolean;
  completedAt?: string;
}

// "-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=500947;"
// "-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=157;"
// MariaDB multi-source dumps name the connection: CHANGE MASTER '' TO …
const COORDS_RE =
  /^(?:-- )?CHANGE (?:MASTER|REPLICATION SOURCE)(?: '[^']*')? TO (?:MASTER|SOURCE)_LOG_FILE='([^']+)', (?:MASTER|SOURCE)_LOG_POS=(\d+);/m;
// MariaDB --gtid: "-- SET GLOBAL gtid_slave_pos='0-1-25';"
const MARIADB_GTID_RE = /^(?:-- )?SET GLOBAL gtid_slave_pos='([^']*)';/m;
// MySQL: "SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'uuid:1-5,\nuuid2:1-3';" (commented with
// --set-gtid-purged=COMMENTED); a set of several servers spans lines.
const MYSQL_GTID_RE = /^(?:-- )?SET @@GLOBAL\.GTID_PURGED=(?:\/\*!80000 '\+'\*\/ )?'([^']*)';/m;
const COMPLETED_RE = /^-- Dump completed(?: on (.+?))?\s*$/m;

function gtidOf(text: string): string | undefined {
  const m = MARIADB_GTID_RE.exec(text) ?? MYSQL_GTID_RE.exec(text);
  if (!m) return undefined;
  // Continuation lines of a multi-server set may carry the comment marker too.
  return m[1]!.replace(/\n(?:-- )?/g, '').replace(/\s+/g, '');
}

export function parseDumpHead(text: string): DumpHead {
  const head: DumpHead = {};
  const tool = /^-- ((?:MariaDB|MySQL) dump .+)$/m.exec(text);
  if (tool) head.tool = tool[1]!.trim();
  const db = /^-- Host: .*?\s+Database: (.+)$/m.exec(text);
  if (db) head.database = db[1]!.trim();
  const sv = /^-- Server version\s+(.+)$/m.exec(text);
  if (sv) head.serverVersion = sv[1]!.trim();
  const c = COORDS_RE.exec(text);
  if (c) {
    head.binlogFile = c[1]!;
    head.binlogPosition = Number(c[2]);
  }
  const gtid = gtidOf(text);
  if (gtid !== undefined) head.gtid = gtid;
  return head;
}

export function parseDumpTail(text: string): DumpTail {
  const tail: DumpTail = { completed: false };
  const done = COMPLETED_RE.exec(text);
  if (done) {
    tail.completed = true;
    if (done[1]) tail.completedAt = done[1].trim();
  }
  const gtid = gtidOf(text);
  if (gtid !== undefined) tail.gtid = gtid;
  return tail;
}

/** The coordinates a dump records, wherever in it they are. */
export function dumpCoordinates(head: DumpHead, tail: DumpTail): { binlogFile?: string; binlogPosition?: number; gtid?: string } {
  const out: { binlogFile?: string; binlogPosition?: number; gtid?: string } = {};
  if (head.binlogFile !== undefined) out.binlogFile = head.binlogFile;
  if (head.binlogPosition !== undefined) out.binlogPosition = head.binlogPosition;
  const gtid = head.gtid ?? tail.gtid;
  if (gtid !== undefined) out.gtid = gtid;
  return out;
}

/** The first and last `bytes` of a file (the whole file when it is smaller than twice that). */
export async function readDumpEnds(path: string, bytes = 16 * 1024): Promise<{ head: string; tail: string; size: number }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const headBuf = Buffer.alloc(Math.min(bytes, size));
    await fh.read(headBuf, 0, headBuf.length, 0);
    const tailLen = Math.min(bytes, size);
    const tailBuf = Buffer.alloc(tailLen);
    await fh.read(tailBuf, 0, tailLen, size - tailLen);
    return { head: headBuf.toString('utf8'), tail: tailBuf.toString('utf8'), size };
  } finally {
    await fh.close();
  }
}
