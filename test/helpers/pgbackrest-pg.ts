import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Target } from '../../src/config/target.js';
import type { EngineContext, JobEvent } from '../../src/engines/context.js';
import { archivePushCommand } from '../../src/engines/postgres/pgbackrest/archive.js';
import { findTool } from '../../src/runner/tools.js';
import { pgbackrestLayout } from '../../src/engines/postgres/pgbackrest/layout.js';
import { startJob } from '../../src/ops/job.js';
import { isPidAlive, signalProcess, waitForPidExit } from '../../src/runner/process.js';
import { startPostgresSandbox, type SandboxInstance } from '../../src/sandbox/index.js';
import { sandboxRunDir } from './sandbox.js';

/**
 * A PostgreSQL of a test's own whose archive_command is pgBackRest's async archive-push into a
 * repository of its own, as the pgbackrest method sets it up. The conf the command names is
 * written afterwards by preparePgbackrest (until then the archiver retries, as it would in life).
 */
export class PgbackrestPostgres {
  constructor(readonly server: SandboxInstance, readonly target: Target) {}

  static async start(tag: string, opts: { sampleData?: boolean; repo?: string; archive?: boolean } = {}): Promise<PgbackrestPostgres> {
    const repo = opts.repo ?? join(sandboxRunDir(), `${tag}-repo-${process.pid}`);
    mkdirSync(repo, { recursive: true, mode: 0o700 });
    const tool = await findTool('pgbackrest');
    const command = archivePushCommand({ tool, layout: pgbackrestLayout(repo), stanza: tag });
    const server = await startPostgresSandbox({ sampleData: opts.sampleData ?? true, ...(opts.archive === false ? {} : { archive: { command } }) });
    const target: Target = {
      name: tag, engine: 'postgres', host: server.host, port: server.port, user: server.user, dbname: server.dbname, repo,
      // In memory only, as for a drill's scratch instance: resolvePassword reads it.
      password: server.password,
    };
    return new PgbackrestPostgres(server, target);
  }

  async sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, port = this.server.port, database = this.server.dbname): Promise<T[]> {
    const c = new pg.Client({ host: '127.0.0.1', port, user: this.server.user, password: this.server.password, database });
    c.on('error', () => {});
    await c.connect();
    try {
      return (await c.query<T>(text)).rows;
    } finally {
      await c.end();
    }
  }

  /** The server's clock (ISO 8601 UTC, microseconds), after a short pause so times are apart from commits. */
  async now(): Promise<Date> {
    const rows = await this.sql<{ now: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`);
    return new Date(rows[0]!.now);
  }

  async stop(opts: { keepRepo?: boolean } = {}): Promise<void> {
    await this.server.stop();
    if (!opts.keepRepo) rmSync(this.target.repo, { recursive: true, force: true });
  }
}

/** Runs engine work as a job, as the ops do, keeping every event it emitted. */
export async function runEngine<T>(work: (ctx: EngineContext) => Promise<T>): Promise<{ value: T; events: JobEvent[] }> {
  const events: JobEvent[] = [];
  const job = startJob(work);
  job.on((e) => events.push(e));
  return { value: await job.result, events };
}

/** Like runEngine, for work that must fail: the error and the events up to it. */
export async function failEngine(work: (ctx: EngineContext) => Promise<unknown>): Promise<{ error: Error & { code?: string; exitCode?: number }; events: JobEvent[] }> {
  const events: JobEvent[] = [];
  const job = startJob(work);
  job.on((e) => events.push(e));
  try {
    await job.result;
  } catch (e) {
    return { error: e as Error, events };
  }
  throw new Error('the work did not fail');
}

/** Restored servers and their directories, stopped and removed in afterAll. */
export class RestoredServers {
  readonly #pids: number[] = [];
  readonly #dirs: string[] = [];
  #n = 0;

  constructor(private readonly tag: string) {}

  dir(): string {
    const d = join(sandboxRunDir(), `${this.tag}-restore-${this.#n++}-${process.pid}`);
    this.#dirs.push(d);
    return d;
  }

  track(pid: number): void {
    this.#pids.push(pid);
  }

  async stop(pid: number): Promise<void> {
    if (!isPidAlive(pid)) return;
    signalProcess(pid, 'SIGINT');
    await waitForPidExit(pid, 20_000);
  }

  async stopAll(): Promise<void> {
    for (const pid of this.#pids) await this.stop(pid);
    for (const d of this.#dirs) rmSync(d, { recursive: true, force: true });
  }
}
