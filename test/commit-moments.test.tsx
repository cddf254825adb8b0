import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleApi } from '../src/cli/console-api.js';
import { ArchivedPostgres } from './helpers/archived-pg.js';
import { runCli, tempConfigDir } from './helpers/cli.js';
import { cleanupAll, expectFits, renderApp, stripAnsi } from './screens/helpers.js';

// Issue 20, restore picker: , and . step the chosen moment by commits. The commits are a real
// PostgreSQL's, read by the engine from the commit records of its archived WAL; the server's own
// record of each commit's time (track_commit_timestamp) is what the console must show.

const cfg = tempConfigDir();
let db: ArchivedPostgres;
let env: Record<string, string>;
/** Each row's commit time as the server recorded it, oldest first. */
let committed: string[] = [];

beforeAll(async () => {
  db = await ArchivedPostgres.start('commits', { settings: { track_commit_timestamp: 'on' } });
  env = { DBDRILL_CONFIG_DIR: cfg.dir, COMMITS_PW: db.server.password };
  const add = await runCli(['target', 'add', 'ct', '--engine', 'postgres', '--port', String(db.server.port), '--user', db.server.user, '--dbname', 'shop', '--repo', db.repo, '--password-env', 'COMMITS_PW'], { env });
  expect(add.code, add.stderr).toBe(0);
  const backup = await runCli(['backup', 'ct', '--kind', 'physical'], { env, timeoutMs: 120_000 });
  expect(backup.code, backup.stderr).toBe(0);
  await db.sql('CREATE TABLE steps (n int PRIMARY KEY)');
  for (let n = 1; n <= 4; n++) {
    await db.sql(`INSERT INTO steps VALUES (${n})`);
    await new Promise((r) => setTimeout(r, 30));
  }
  committed = (
    await db.sql<{ at: string }>(`SELECT to_char(pg_xact_commit_timestamp(xmin) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at FROM steps ORDER BY n`)
  ).map((r) => r.at);
  await db.switchAndArchive();
}, 240_000);

afterEach(cleanupAll);
afterAll(async () => {
  await db?.stop();
  cfg.cleanup();
});

describe('commit moments of a real archive', () => {
  it('the engine lists each commit at the time the server recorded it, to the microsecond', async () => {
    process.env.COMMITS_PW = db.server.password;
    const api = createConsoleApi(cfg.dir);
    const w = await api.readWindow('ct');
    const answer = await api.readCommitMoments('ct', { from: w.from!, to: w.to! });
    for (const at of committed) expect(answer.moments).toContain(at);
    expect(answer.from).toBe(w.from);
    expect(answer.partial).toBeUndefined();
    // Kept per window: asked again, the same answer without reading the archive again.
    expect(await api.readCommitMoments('ct', { from: w.from!, to: w.to! })).toBe(answer);
  });

  it('the console steps back through them with , and forward with ., the Time field showing each', async () => {
    process.env.COMMITS_PW = db.server.password;
    const r = renderApp(createConsoleApi(cfg.dir), { columns: 80, rows: 24 });
    await r.waitForFrame((f) => f.includes('ct'), 'the target', 10_000);
    await r.press('3');
    await r.waitForFrame((f) => f.includes('Recoverable window of ct'), 'the window', 30_000);
    const timeLine = (f: string) => stripAnsi(f).split('\n').find((l) => /^\s*›?\s*Time /.test(l)) ?? '';
    // From latest back to the first row's commit, one commit per key, each shown as it moves.
    const shown: string[] = [];
    for (let i = 0; i < 20 && !shown.includes(committed[0]!); i++) {
      const before = timeLine(r.lastFrame());
      await r.press(',');
      const frame = await r.waitForFrame((f) => timeLine(f) !== before && /commit \d+ of \d+/.test(timeLine(f)), 'the next commit back', 30_000);
      expectFits(stripAnsi(frame));
      shown.push(/Time\s+(\S+)/.exec(timeLine(frame))![1]!);
    }
    // Every commit of the rows was shown, newest first, in the order the server made them.
    const rows = shown.filter((t) => committed.includes(t));
    expect(rows).toEqual([...committed].reverse().filter((t) => shown.includes(t)));
    expect(rows).toEqual(expect.arrayContaining(committed.slice(0, 3)));
    await r.press('.');
    const frame = await r.waitForFrame((f) => timeLine(f).includes(committed[1]!), 'forward to the second row');
    expect(timeLine(frame)).toMatch(new RegExp(`Time\\s+${committed[1]!.replace(/\./g, '\\.')}\\s+commit \\d+ of \\d+`));
  }, 120_000);
});
