import { basename, join } from 'node:path';
import type { BackupSink } from '../../crypto/sealed.js';
import { invalid } from '../../errors.js';
import type { Target } from '../../config/target.js';
import type { EngineContext as JobContext } from '../context.js';
import { runTool } from '../../runner/run.js';
import { findTool } from '../../runner/tools.js';
import type { ProbeResult } from '../probe-types.js';
import type { BackupResult, RecordTool } from '../backup-result.js';
import { connectPostgres } from './client.js';
import { pgConnArgs, pgSecret } from './connection-args.js';
import { tableStats } from './table-stats.js';
import { watchGrowth } from '../growth.js';
import { forwardToolEvents } from '../tool-events.js';

export interface LogicalOptions {
  jobs?: number;
  /** Also digest every table's contents (a full scan beside pg_dump; see tableStats). */
  digests?: boolean;
  recordTool?: RecordTool;
  /** An encrypting sink takes the custom-format dump on stdout. */
  sink?: BackupSink;
}

/**
 * pg_dump into `dir`: custom format (one file, selective restore) or, with --jobs > 1, directory
 * format dumped in parallel. A repeatable-read transaction exports its snapshot to pg_dump and
 * counts every table in that same snapshot, so the recorded counts match the dump exactly.
 */
export async function pgLogicalBackup(ctx: JobContext, target: Target, probe: ProbeResult, dir: string, opts: LogicalOptions): Promise<BackupResult> {
  const tool = await findTool('pg_dump', { serverMajor: probe.serverMajor, serverVersion: probe.serverVersion });
  const jobs = opts.jobs ?? 1;
  const encrypted = opts.sink?.encryptTo !== undefined;
  // The directory format (--jobs) writes many files that pg_dump seeks in: it cannot be piped.
  if (encrypted && jobs > 1) throw invalid(`--jobs ${jobs} dumps into a directory of files, which cannot be streamed through age; target "${target.name}" encrypts its repository, so drop --jobs (one custom-format dump is encrypted as it is written).`);
  const format = jobs > 1 ? 'directory' : 'custom';
  const out = join(dir, format === 'custom' ? 'dump.pgdump' : 'dump');

  const client = await connectPostgres(target);
  // pg_dump and the row counting run side by side; when either fails, the other is stopped.
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onOuterAbort, { once: true });
  let finished = false;
  try {
    const backendPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // The counts finish long before the dump and are off its critical path, but parallel scan
    // workers took as long as one backend (0.6-0.7 s for 5 M pgbench rows) at twice the CPU,
    // taken from pg_dump and its COPY backends (bench/backup.ts, 2 cores).
    await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
    const { rows } = await client.query<{ s: string }>('SELECT pg_export_snapshot() AS s');
    const snapshot = rows[0]!.s;
    const args = [
      ...pgConnArgs(target),
      '--dbname', target.dbname,
      '--format', format,
      ...(encrypted ? [] : ['--file', out]),
      '--snapshot', snapshot,
      ...(jobs > 1 ? ['--jobs', String(jobs)] : []),
    ];
    const toolRecord = { name: tool.name, version: tool.version, argv: [tool.path, ...args] };
    // pg_dump seeks back into its own file (the TOC's offsets), but age's output on a pipe is
    // written front to back, so an encrypted dump is hashed as it grows.
    opts.recordTool?.(toolRecord, encrypted ? { appendOnly: [basename(out)] } : undefined);
    const stopWatch = watchGrowth(ctx, 'dumping', out);
    const failFast = <T>(p: Promise<T>) => p.catch((e: unknown) => { stop.abort(e); throw e; });
    try {
      const [, tables] = await Promise.all([
        failFast(
          ctx.step('dump', () =>
            encrypted
              ? opts.sink!.fromStdout({ tool, args, secret: pgSecret(target) }, basename(out), { signal: stop.signal, onEvent: forwardToolEvents(ctx) })
              : runTool({ tool, args, secret: pgSecret(target), signal: stop.signal, onEvent: forwardToolEvents(ctx) }).then(() => undefined),
          ),
        ),
        failFast(ctx.step('count rows', () => tableStats(client, { digests: opts.digests === true }))),
      ]);
      finished = true;
      return {
        tool: toolRecord,
        format: `pg_dump-${format}`,
        database: target.dbname,
        tables,
      };
    } finally {
      stopWatch();
      // A count still waiting for a lock would not notice its client going away, so its
      // backend is terminated rather than left holding a snapshot on the server.
      if (!finished) await terminateBackend(target, backendPid);
    }
  } finally {
    ctx.signal.removeEventListener('abort', onOuterAbort);
    if (finished) await client.query('ROLLBACK').catch(() => {});
    await client.end().catch(() => {});
  }
}

async function terminateBackend(target: Target, pid: number): Promise<void> {
  try {
    const c = await connectPostgres(target);
    try {
      await c.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await c.end().catch(() => {});
    }
  } catch {
    // The server may be the reason the run failed; nothing more can be done from here.
  }
}
