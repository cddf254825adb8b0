import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { isPidAlive, signalProcess, waitForPidExit } from '../../src/runner/process.js';
import { startPostgresSandbox, type SandboxInstance } from '../../src/sandbox/index.js';
import { freePort } from '../../src/sandbox/ports.js';
import { serverAccount } from '../../src/sandbox/users.js';
import { archiveCommand } from '../../src/wal/command.js';
import { archivedSegment } from '../../src/pitr/wal-names.js';
import { prepareWalDir, type Compression } from '../../src/wal/layout.js';
import { CLI, type CliResult } from './cli.js';
import { sandboxRunDir } from './sandbox.js';

/**
 * A PostgreSQL of a test's own whose archive_command is the built `dbdrill wal-push` into `repo`,
 * exactly as `dbdrill archiving enable` sets it up (with `--compress zstd` when asked). Tests
 * that break or rewind things use this, never the suite's shared server.
 */
export class ArchivedPostgres {
  constructor(readonly server: SandboxInstance, readonly repo: string) {}

  static async start(tag: string, opts: { compress?: Compression; walSegmentMB?: number; settings?: Record<string, string> } = {}): Promise<ArchivedPostgres> {
    process.env.DBDRILL_ENTRY = CLI;
    const repo = join(sandboxRunDir(), `${tag}-repo-${process.pid}`);
    mkdirSync(repo, { recursive: true, mode: 0o700 });
    prepareWalDir(repo, serverAccount('postgres'));
    const server = await startPostgresSandbox({
      sampleData: true,
      archive: { command: archiveCommand(repo, { compress: opts.compress }) },
      ...(opts.walSegmentMB !== undefined ? { walSegmentMB: opts.walSegmentMB } : {}),
      ...(opts.settings ? { settings: opts.settings } : {}),
    });
    return new ArchivedPostgres(server, repo);
  }

  async sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, port = this.server.port, database = 'shop'): Promise<T[]> {
    const c = new pg.Client({ host: '127.0.0.1', port, user: this.server.user, password: this.server.password, database });
    c.on('error', () => {});
    await c.connect();
    try {
      return (await c.query<T>(text)).rows;
    } finally {
      await c.end();
    }
  }

  /** Switches to a new WAL segment and waits until the finished one is in the repository. */
  async switchAndArchive(): Promise<string> {
    const name = (await this.sql<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name'))[0]!.name;
    const dir = join(this.repo, 'wal', name.slice(0, 8));
    for (let i = 0; i < 100; i++) {
      try {
        if (readdirSync(dir).some((f) => archivedSegment(f) === name)) return name;
      } catch {
        // wal/<timeline> not created yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`segment ${name} was not archived within 10 s`);
  }

  /** The server's clock, as ISO 8601 UTC with microseconds. */
  async now(): Promise<string> {
    const rows = await this.sql<{ now: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`);
    return rows[0]!.now;
  }

  async stop(): Promise<void> {
    await this.server.stop();
    rmSync(this.repo, { recursive: true, force: true });
  }
}

/** What `dbdrill restore … --json` reports for a point-in-time restore. */
export interface PitrJson {
  pid: number;
  dataDir: string;
  port: number;
  timeline?: number;
  segmentsRestored: number;
  reached: { lastCommitAt?: string; stoppedBeforeXid?: string; redoDoneAt?: string; proven?: string };
  plan: { backup: string; timeline: number; settings: Record<string, string>; walFrom: string; walTo: string; startLsn: string; endLsn: string };
}

/**
 * Point-in-time restores of a test file into fresh directories and ports under the run directory;
 * stopAll() (in afterAll) stops every server they left running and removes the directories.
 */
export class PitrRestores {
  readonly #pids: number[] = [];
  readonly #dirs: string[] = [];
  #n = 0;

  constructor(private readonly cli: (args: string[]) => Promise<CliResult>, private readonly tag: string) {}

  /** `dbdrill restore TARGET ARGS --into NEW --port FREE --json`; report is set when it exited 0. */
  async restore(target: string, args: string[]): Promise<CliResult & { report?: PitrJson; into: string; port: number }> {
    const into = join(sandboxRunDir(), `${this.tag}-${this.#n++}-${process.pid}`);
    this.#dirs.push(into);
    const port = await freePort();
    const r = await this.cli(['restore', target, ...args, '--into', into, '--port', String(port), '--json']);
    if (r.code !== 0) return { ...r, into, port };
    const report = JSON.parse(r.stdout) as PitrJson;
    this.#pids.push(report.pid);
    return { ...r, report, into, port };
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
