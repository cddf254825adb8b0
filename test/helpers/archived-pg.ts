import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgresSandbox, type SandboxInstance } from '../../src/sandbox/index.js';
import { serverAccount } from '../../src/sandbox/users.js';
import { archiveCommand } from '../../src/wal/command.js';
import { prepareWalDir } from '../../src/wal/layout.js';
import { CLI } from './cli.js';
import { sandboxRunDir } from './sandbox.js';

/**
 * A PostgreSQL of a test's own whose archive_command is the built `dbdrill wal-push` into `repo`,
 * exactly as `dbdrill archiving enable` sets it up. Tests that break or rewind things use this,
 * never the suite's shared server.
 */
export class ArchivedPostgres {
  constructor(readonly server: SandboxInstance, readonly repo: string) {}

  static async start(tag: string): Promise<ArchivedPostgres> {
    process.env.DBDRILL_ENTRY = CLI;
    const repo = join(sandboxRunDir(), `${tag}-repo-${process.pid}`);
    mkdirSync(repo, { recursive: true, mode: 0o700 });
    prepareWalDir(repo, serverAccount('postgres'));
    const server = await startPostgresSandbox({ sampleData: true, archive: { command: archiveCommand(repo) } });
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
        if (readdirSync(dir).includes(name)) return name;
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
