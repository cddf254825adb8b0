import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DbdrillError } from '../src/errors.js';
import { isPidAlive, listProcesses } from '../src/runner/process.js';
import {
  SAMPLE_COUNTS, sampleSummary, sandboxInfo, sandboxStatus, socketPath, startMariadbSandbox, startPostgresSandbox, stopSandbox,
  type SandboxInfo, type SandboxInstance,
} from '../src/sandbox/index.js';
import { lookupUser } from '../src/sandbox/users.js';
import { sandboxRunDir, sharedMariadb, sharedPostgres, withMysql, withPg } from './helpers/sandbox.js';

const asRoot = process.getuid?.() === 0;

/** Processes that belong to a sandbox directory: the server and (PostgreSQL) its backends. */
function processesOf(dir: string) {
  return listProcesses().filter((p) => p.commandLine.includes(dir) || (p.cwd?.startsWith(dir) ?? false));
}

async function poll<T>(what: string, timeoutMs: number, fn: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectGone(info: SandboxInfo): Promise<void> {
  expect(isPidAlive(info.pid)).toBe(false);
  expect(processesOf(info.dir)).toEqual([]);
  expect(existsSync(info.dir)).toBe(false);
  expect(await sandboxStatus(info)).toEqual({ running: false, pidAlive: false, accepting: false });
}

async function rejection(p: Promise<unknown>): Promise<DbdrillError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(DbdrillError);
  return e as DbdrillError;
}

describe('shared PostgreSQL sandbox', () => {
  const info = sharedPostgres();

  it('accepts the dbdrill password over TCP and holds the sample rows', async () => {
    const summary = sampleSummary();
    await withPg(info, async (c) => {
      const { rows } = await c.query<{ customers: number; orders: number; items: number; total: string }>(
        `select (select count(*)::int from customers) as customers,
                (select count(*)::int from orders) as orders,
                (select count(*)::int from order_items) as items,
                (select sum(total_cents)::text from orders) as total`,
      );
      expect(rows[0]).toEqual({
        customers: SAMPLE_COUNTS.customers,
        orders: SAMPLE_COUNTS.orders,
        items: SAMPLE_COUNTS.order_items,
        total: String(summary.ordersTotalCents),
      });
      const noPk = await c.query(
        `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind = 'r'
            and not exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'p')`,
      );
      expect(noPk.rows).toEqual([]);
    });
    expect(info.dbname).toBe('shop');
    expect(info.version).toMatch(/^15\.\d+$/);
  });

  it('runs with the settings the drills rely on', async () => {
    await withPg(info, async (c) => {
      const show = async (name: string) => (await c.query(`show ${name}`)).rows[0][name] as string;
      expect(await show('data_checksums')).toBe('on');
      expect(await show('listen_addresses')).toBe('127.0.0.1');
      expect(await show('wal_level')).toBe('replica');
      expect(await show('max_wal_senders')).toBe('4');
      expect(await show('archive_mode')).toBe('on');
      expect(await show('fsync')).toBe('on');
      expect(await show('password_encryption')).toBe('scram-sha-256');
    });
  });

  it('refuses a wrong password', async () => {
    const e = await withPg(info, async () => 'connected', { password: 'wrong' }).catch((err: unknown) => err);
    expect((e as { code?: string }).code).toBe('28P01');
  });

  it('archives a WAL segment after a write and a switch', async () => {
    const segment = await withPg(info, async (c) => {
      await c.query('create table if not exists sandbox_archive_probe (id serial primary key, at timestamptz default now())');
      await c.query('insert into sandbox_archive_probe default values');
      // The name of the segment pg_switch_wal just completed (the boundary LSN names the one before).
      const { rows } = await c.query<{ name: string }>('select pg_walfile_name(pg_switch_wal()) as name');
      return rows[0]!.name;
    });
    expect(segment).toMatch(/^[0-9A-F]{24}$/);
    const archiveDir = info.archiveDir!;
    await poll(`${segment} in ${archiveDir}`, 10_000, () => (existsSync(`${archiveDir}/${segment}`) ? true : undefined));
    expect(statSync(`${archiveDir}/${segment}`).size).toBe(16 * 1024 * 1024);
    expect(readdirSync(archiveDir).filter((f) => f.endsWith('.part'))).toEqual([]);
    const failed = await withPg(info, async (c) => (await c.query('select failed_count from pg_stat_archiver')).rows[0].failed_count);
    expect(Number(failed)).toBe(0);
  });

  it('lives in a 0700 directory owned by the postgres user', () => {
    const st = statSync(info.dir);
    expect(st.mode & 0o777).toBe(0o700);
    if (asRoot) expect(st.uid).toBe(lookupUser('postgres')!.uid);
    expect(dirname(info.dir)).toBe(sandboxRunDir());
    expect(existsSync(socketPath(info))).toBe(true);
  });
});

describe('shared MariaDB sandbox', () => {
  const info = sharedMariadb();

  it('accepts the dbdrill user over TCP and holds the sample rows', async () => {
    await withMysql(info, async (c) => {
      const [rows] = await c.query<import('mysql2/promise').RowDataPacket[]>(
        `select (select count(*) from customers) as customers,
                (select count(*) from orders) as orders,
                (select count(*) from order_items) as items,
                (select cast(sum(total_cents) as char) from orders) as total`,
      );
      expect(rows[0]).toEqual({
        customers: SAMPLE_COUNTS.customers,
        orders: SAMPLE_COUNTS.orders,
        items: SAMPLE_COUNTS.order_items,
        total: String(sampleSummary().ordersTotalCents),
      });
      const [engines] = await c.query<import('mysql2/promise').RowDataPacket[]>(
        "select table_name as t, engine as e from information_schema.tables where table_schema = 'shop' order by 1",
      );
      expect(engines.map((r) => `${r.t}:${r.e}`).sort()).toEqual(['customers:InnoDB', 'order_items:InnoDB', 'orders:InnoDB']);
    });
    expect(info.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('writes binary logs in row format', async () => {
    await withMysql(info, async (c) => {
      const [vars] = await c.query<import('mysql2/promise').RowDataPacket[]>(
        "show variables where variable_name in ('log_bin', 'binlog_format', 'bind_address')",
      );
      const byName = Object.fromEntries(vars.map((r) => [r.Variable_name, r.Value]));
      expect(byName).toEqual({ log_bin: 'ON', binlog_format: 'ROW', bind_address: '127.0.0.1' });
    });
    const binlogs = readdirSync(info.binlogDir!).filter((f) => /^mysql-bin\.\d+$/.test(f));
    expect(binlogs.length).toBeGreaterThan(0);
    // dbdrill's files are 0600, the server's own included.
    expect(statSync(`${info.binlogDir}/${binlogs[0]}`).mode & 0o777).toBe(0o600);
  });

  it('lets the dbdrill user in through the socket as well', async () => {
    const user = await withMysql(info, async (c) => {
      const [rows] = await c.query<import('mysql2/promise').RowDataPacket[]>('select current_user() as u');
      return rows[0]!.u as string;
    }, { host: undefined, port: undefined, socketPath: socketPath(info) });
    expect(user).toBe('dbdrill@localhost');
    const st = statSync(info.dir);
    expect(st.mode & 0o777).toBe(0o700);
    if (asRoot) expect(st.uid).toBe(lookupUser('mysql')!.uid);
  });

  it('refuses a wrong password and a password-less root over TCP', async () => {
    const wrong = await withMysql(info, async () => 'connected', { password: 'wrong' }).catch((e: unknown) => e);
    expect((wrong as { code?: string }).code).toBe('ER_ACCESS_DENIED_ERROR');
    const root = await withMysql(info, async () => 'connected', { user: 'root', password: '' }).catch((e: unknown) => e);
    expect((root as { code?: string }).code).toMatch(/^ER_(ACCESS_DENIED|HOST_NOT_PRIVILEGED)/);
  });
});

describe('extra sandboxes', () => {
  const cleanup: SandboxInstance[] = [];
  afterEach(async () => {
    await Promise.all(cleanup.splice(0).map((s) => s.stop()));
  });

  it('starts an empty PostgreSQL and stops it without leaving a process or a file', async () => {
    const pg = await startPostgresSandbox();
    cleanup.push(pg);
    expect(pg.dbname).toBe('postgres');
    expect(pg.archiveDir).toBeUndefined();
    expect(await sandboxStatus(pg)).toEqual({ running: true, pidAlive: true, accepting: true });
    // Backends are alive while a client is connected; they must go with the postmaster.
    await withPg(pg, async (c) => {
      expect((await c.query('select current_user as u')).rows[0].u).toBe('dbdrill');
      expect(processesOf(pg.dir).length).toBeGreaterThan(1);
    });
    await pg.stop();
    await expectGone(pg);
    await pg.stop(); // idempotent
    await stopSandbox(pg);
  });

  it('stops a detached sandbox from its JSON description alone', async () => {
    const my = await startMariadbSandbox({ detach: true });
    const json = JSON.stringify(sandboxInfo(my));
    expect(json).not.toContain('stop');
    const info = JSON.parse(json) as SandboxInfo;
    expect(await sandboxStatus(info)).toMatchObject({ running: true });
    await stopSandbox(info);
    await expectGone(info);
    await stopSandbox(info);
  });

  it('applies extra settings and a custom archive command', async () => {
    const pg = await startPostgresSandbox({ archive: { command: '/bin/true' }, settings: { archive_timeout: '30s' } });
    cleanup.push(pg);
    await withPg(pg, async (c) => {
      expect((await c.query('show archive_command')).rows[0].archive_command).toBe('/bin/true');
      expect((await c.query('show archive_timeout')).rows[0].archive_timeout).toBe('30s');
    });
  });

  describe('on a port another process listens on', () => {
    let server: Server;
    let port: number;
    afterEach(() => new Promise<void>((r) => server.close(() => r())));

    async function listen(): Promise<void> {
      server = createServer();
      await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
      port = (server.address() as { port: number }).port;
    }

    it('PostgreSQL fails with a sentence naming the port and leaves nothing', async () => {
      await listen();
      const baseDir = join(sandboxRunDir(), `dbdrill-sandbox-busy-${port}`);
      const e = await rejection(startPostgresSandbox({ port, baseDir }));
      expect(e.code).toBe('sandbox');
      expect(e.message).toContain(`port ${port}`);
      expect(e.message).toMatch(/^[^\n]+\.$/);
      expect(existsSync(baseDir)).toBe(false);
    });

    it('MariaDB fails with a sentence naming the port', async () => {
      await listen();
      const e = await rejection(startMariadbSandbox({ port }));
      expect(e.code).toBe('sandbox');
      expect(e.message).toContain(`port ${port}`);
    });
  });

  it('removes everything when a start is cancelled', async () => {
    const baseDir = join(sandboxRunDir(), `dbdrill-sandbox-cancel-${process.pid}`);
    const ac = new AbortController();
    const started = startPostgresSandbox({ baseDir, signal: ac.signal, sampleData: true });
    setTimeout(() => ac.abort(), 300);
    const e = await rejection(started);
    expect(e.code).toBe('aborted');
    expect(existsSync(baseDir)).toBe(false);
    expect(processesOf(baseDir)).toEqual([]);
  });

  it('explains a server that dies while starting with its own log line', async () => {
    const baseDir = join(sandboxRunDir(), `dbdrill-sandbox-badconf-${process.pid}`);
    const e = await rejection(startPostgresSandbox({ baseDir, settings: { shared_buffers: 'lots' } }));
    expect(e.code).toBe('sandbox');
    expect(e.message).toMatch(/exited while starting.*invalid value for parameter "shared_buffers"/);
    expect(e.message).not.toContain('\n');
    expect(existsSync(baseDir)).toBe(false);
  });

  it('stop removes only directories that carry the sandbox marker', async () => {
    const dir = join(sandboxRunDir(), `not-a-sandbox-${process.pid}`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    const forged: SandboxInfo = { ...sharedPostgres(), dir, dataDir: join(dir, 'data'), pid: 999_999, keep: false };
    const e = await rejection(stopSandbox(forged));
    expect(e.code).toBe('sandbox');
    expect(existsSync(join(dir, 'precious.txt'))).toBe(true);
    rmSync(dir, { recursive: true });
    await expect(stopSandbox({ ...forged, dataDir: '/etc' })).rejects.toMatchObject({ code: 'invalid-input' });
  });

  it('refuses a base directory that is not empty', async () => {
    const e = await rejection(startPostgresSandbox({ baseDir: sandboxRunDir() }));
    expect(e.code).toBe('sandbox');
    expect(e.message).toContain('not empty');
  });
});
