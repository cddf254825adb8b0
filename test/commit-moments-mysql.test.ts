import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleApi } from '../src/cli/console-api.js';
import { startMariadbSandbox, type SandboxInstance } from '../src/sandbox/index.js';
import { runCli, tempConfigDir } from './helpers/cli.js';

// Issue 20, restore picker: the commits , and . step through on a MariaDB target are its
// archived binlog's transactions, each at the second the server stamped it.

const cfg = tempConfigDir();
const repo = join(cfg.dir, 'repo');
let server: SandboxInstance;
let env: Record<string, string>;

async function sql<T = mysql.RowDataPacket[]>(text: string): Promise<T> {
  const conn = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: server.user, password: server.password, database: 'shop', dateStrings: true });
  try {
    return (await conn.query(text))[0] as T;
  } finally {
    await conn.end();
  }
}
const serverSecond = async () => Date.parse(`${(await sql<{ t: string }[]>("SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ') AS t"))[0]!.t}`) / 1000;

beforeAll(async () => {
  server = await startMariadbSandbox({ binlog: true, sampleData: true });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, MYCOMMITS_PW: server.password };
  const add = await runCli(['target', 'add', 'mycommits', '--engine', 'mysql', '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--dbname', 'shop', '--repo', repo, '--password-env', 'MYCOMMITS_PW'], { env });
  expect(add.code, add.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  cfg.cleanup();
});

describe('commit moments of a MariaDB binlog archive', () => {
  it('lists each transaction at the second the server committed it, none twice', async () => {
    const backup = await runCli(['backup', 'mycommits', '--kind', 'logical'], { env, timeoutMs: 120_000 });
    expect(backup.code, backup.stderr).toBe(0);
    await sql('CREATE TABLE beats (n int PRIMARY KEY)');
    // Three commits, each in a second of its own, with the server's clock read around each.
    const spans: [number, number][] = [];
    for (let n = 1; n <= 3; n++) {
      await new Promise((r) => setTimeout(r, 1100));
      const before = await serverSecond();
      await sql(`INSERT INTO beats VALUES (${n})`);
      spans.push([before, await serverSecond()]);
    }
    await sql('FLUSH BINARY LOGS');
    const sync = await runCli(['binlog-sync', 'mycommits'], { env, timeoutMs: 60_000 });
    expect(sync.code, sync.stderr).toBe(0);

    process.env.MYCOMMITS_PW = server.password;
    const api = createConsoleApi(cfg.dir);
    const w = await api.readWindow('mycommits');
    const answer = await api.readCommitMoments('mycommits', { from: w.from!, to: w.to! });
    expect(answer.partial).toBeUndefined();
    expect(new Set(answer.moments).size).toBe(answer.moments.length);
    for (const m of answer.moments) expect(m).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const seconds = answer.moments.map((m) => Date.parse(m) / 1000);
    // Each insert's commit is listed at a second inside the span the server's clock gave it.
    for (const [before, after] of spans) expect(seconds.some((s) => s >= before && s <= after), `a commit in ${before}…${after}`).toBe(true);
    // The window's end is the newest listed: the last insert is the last change archived.
    expect(seconds.at(-1)).toBeGreaterThanOrEqual(spans.at(-1)![0]);
  }, 240_000);
});
