import { join } from 'node:path';
import type { Target } from '../../config/target.js';
import { DbdrillError } from '../../errors.js';
import type { TableStat } from '../../repo/manifest.js';
import { toolTooOld } from '../../runner/errors.js';
import { runTool } from '../../runner/run.js';
import { findTool, packageFor, type Tool } from '../../runner/tools.js';
import type { BackupResult, RecordTool } from '../backup-result.js';
import type { EngineContext } from '../context.js';
import { watchGrowth } from '../growth.js';
import type { ProbeResult } from '../probe-types.js';
import { forwardToolEvents } from '../tool-events.js';
import { myConnArgs, mySecret } from './connection-args.js';
import { DATABASE_FILE, writeDatabaseFile } from './database-file.js';
import type { BackupSink } from '../../crypto/sealed.js';
import { StreamEnds } from './stream-ends.js';
import { buildDumpArgs, dumpToolTooOld, parseClientVersion, type ClientVersion, type Flavor } from './dump-args.js';
import { dumpCoordinates, parseDumpHead, parseDumpTail, readDumpEnds } from './dump-head.js';
import { killSession, openStatsSnapshot, pauseCommits, type BinlogPos, type CommitPause, type StatsSnapshot } from './snapshot.js';
import { tableStats } from './table-stats.js';

export const DUMP_FILE = 'dump.sql';
export const DUMP_FORMAT = 'mysqldump-sql';

export interface MyLogicalOptions {
  jobs?: number;
  recordTool?: RecordTool;
  /** An encrypting sink takes the dump on stdout into age (see crypto/sealed.ts). */
  sink?: BackupSink;
}

/** The dump tool and its real release (the one findTool reads is the client protocol's "Ver 10.19"). */
export async function findDumpTool(signal?: AbortSignal): Promise<{ tool: Tool; version: ClientVersion }> {
  const tool = await findTool(['mariadb-dump', 'mysqldump']);
  const r = await runTool({ tool, args: ['--version'], capture: true, signal, timeoutMs: 10_000 });
  const version = parseClientVersion(r.stdout) ?? { flavor: tool.name === 'mariadb-dump' ? 'mariadb' : 'mysql', version: tool.version };
  return { tool, version };
}

/**
 * mariadb-dump (or mysqldump) of the target's schema into dump.sql, one consistent snapshot, with
 * the binlog coordinates of that snapshot recorded for point-in-time recovery, and each table's
 * rows counted and digested at the same binlog position (see snapshot.ts for how and why).
 */
export async function myLogicalBackup(ctx: EngineContext, target: Target, probe: ProbeResult, dir: string, opts: MyLogicalOptions = {}): Promise<BackupResult> {
  if ((opts.jobs ?? 1) > 1) ctx.emit({ type: 'log', level: 'warn', text: 'mariadb-dump dumps with one connection; --jobs is ignored for MySQL/MariaDB logical backups' });
  const flavor: Flavor = probe.flavor === 'mysql' ? 'mysql' : 'mariadb';
  const { tool, version } = await findDumpTool(ctx.signal);
  const spec = { serverFlavor: flavor, serverVersion: probe.serverVersion, toolName: tool.name, toolFlavor: version.flavor, toolVersion: version.version };
  if (dumpToolTooOld(spec)) throw toolTooOld(tool.name, version.version, probe.serverVersion, packageFor(tool.name));
  const out = join(dir, DUMP_FILE);
  const binlog = probe.archiving.enabled;
  // Encrypted, the dump reaches age on stdout and its ends are kept as they pass (never on disk in plain).
  const sealed = opts.sink?.encryptTo ? opts.sink : undefined;
  const ends = sealed ? new StreamEnds() : undefined;
  const args = buildDumpArgs({ ...spec, binlog, conn: myConnArgs(target), schema: target.dbname, ...(sealed ? {} : { resultFile: out }) });
  opts.recordTool?.({ name: tool.name, version: version.version, argv: [tool.path, ...args] }, sealed ? { appendOnly: [DUMP_FILE] } : undefined);

  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onOuterAbort, { once: true });
  let pause: CommitPause | undefined;
  let stats: StatsSnapshot | undefined;
  let finished = false;
  try {
    try {
      pause = await ctx.step('pause commits', () => pauseCommits(target));
    } catch (e) {
      ctx.emit({
        type: 'log',
        level: 'warn',
        text: `could not pause commits (${(e as Error).message}); the table counts are kept only if no write lands between their snapshot and the dump's`,
      });
    }
    stats = await openStatsSnapshot(target, flavor);
    let statsPos: BinlogPos | undefined = stats.position;
    if (flavor === 'mysql' && pause) {
      // MySQL's snapshot reports no position, but with commits paused the server's current one is
      // the snapshot's. mysqldump takes FLUSH TABLES WITH READ LOCK itself for --source-data, so
      // the pause ends here rather than waiting (against it) for the dump's snapshot.
      statsPos = await pause.binlogStatus();
      await pause.release();
      pause = undefined;
    }
    writeDatabaseFile(dir, { name: target.dbname, characterSet: stats.characterSet, collation: stats.collation });
    // The schema's name and character set only: a restore reads them before it can decrypt anything.
    sealed?.declarePlain(DATABASE_FILE);

    const failFast = <T>(p: Promise<T>) => p.catch((e: unknown) => { stop.abort(e); throw e; });
    const stopWatch = watchGrowth(ctx, 'dumping', out);
    const counting = stats;
    const dumping = failFast(
      ctx.step('dump', () =>
        sealed
          ? sealed.fromStdout({ tool, args, secret: mySecret(target) }, DUMP_FILE, { signal: stop.signal, onEvent: forwardToolEvents(ctx), tap: (c) => ends!.push(c) })
          : runTool({ tool, args, secret: mySecret(target), signal: stop.signal, onEvent: forwardToolEvents(ctx) }).then(() => undefined),
      ),
    );
    const both = Promise.all([dumping, failFast(ctx.step('count rows', () => tableStats(counting.conn, target.dbname, counting.tables)))]);
    both.catch(() => {});
    let heldThrough = false;
    try {
      if (pause) {
        const seen = await pause.waitForSnapshot(Math.max(pause.threadId, stats.threadId), dumping);
        heldThrough = seen === 'seen' || seen === 'tool-exited';
        await pause.release();
        if (seen === 'timeout' || seen === 'unknown') {
          ctx.emit({ type: 'log', level: 'warn', text: `commits resumed before the dump's snapshot was seen (${seen})` });
        }
      }
      const [, tables] = await both;
      finished = true;
      return await result(ctx, { tool, version, args, out, ends, target, binlog, statsPos, heldThrough, tables });
    } finally {
      stopWatch();
    }
  } finally {
    ctx.signal.removeEventListener('abort', onOuterAbort);
    await pause?.release();
    if (stats) {
      if (!finished) await killSession(target, stats.threadId);
      await stats.conn.query('ROLLBACK').catch(() => {});
      await stats.conn.end().catch(() => {});
    }
  }
}

interface Finished {
  tool: Tool;
  version: ClientVersion;
  args: string[];
  out: string;
  /** The plain dump's ends, seen on their way into age (the file holds ciphertext). */
  ends: StreamEnds | undefined;
  target: Target;
  binlog: boolean;
  /** The binlog position the counts were taken at, when known. */
  statsPos: BinlogPos | undefined;
  /** Commits stayed paused until the dump's snapshot was open (or the dump had finished). */
  heldThrough: boolean;
  tables: TableStat[];
}

/** Checks the finished dump and decides whether the counts describe it (see snapshot.ts). */
async function result(ctx: EngineContext, f: Finished): Promise<BackupResult> {
  const { tool, version, args, out, target, binlog, statsPos, heldThrough, tables } = f;
  const ends = f.ends ? { head: f.ends.head, tail: f.ends.tail } : await readDumpEnds(out);
  const head = parseDumpHead(ends.head);
  const tail = parseDumpTail(ends.tail);
  if (!tail.completed) {
    throw new DbdrillError('failed', `${tool.name} exited without writing its "-- Dump completed" line, so the dump is incomplete; check the disk space and the server log, then run the backup again.`);
  }
  const coords = dumpCoordinates(head, tail);
  if (binlog && (coords.binlogFile === undefined || coords.binlogPosition === undefined)) {
    throw new DbdrillError('failed', `The dump holds no binlog coordinates although the server writes binary logs; point-in-time recovery could not start from it — check that ${target.user} may read the binlog position (BINLOG MONITOR or REPLICATION CLIENT).`);
  }
  const exact = binlog
    ? statsPos !== undefined && statsPos.file === coords.binlogFile && statsPos.position === coords.binlogPosition
    : heldThrough;
  if (!exact) {
    ctx.emit({
      type: 'log',
      level: 'warn',
      text: binlog
        ? `the table counts were taken at ${statsPos ? `${statsPos.file}:${statsPos.position}` : 'an unknown binlog position'} but the dump at ${coords.binlogFile}:${coords.binlogPosition}; they are left out of the manifest, so restores of this backup are not compared row by row`
        : 'the table counts could not be tied to the dump\'s snapshot; they are left out of the manifest, so restores of this backup are not compared row by row',
    });
  }
  return {
    tool: { name: tool.name, version: version.version, argv: [tool.path, ...args] },
    format: DUMP_FORMAT,
    database: target.dbname,
    ...(Object.keys(coords).length > 0 ? { mysql: coords } : {}),
    ...(exact ? { tables } : {}),
  };
}
