import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempConfigDir } from './helpers/cli.js';

const cfg = tempConfigDir();
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
afterAll(() => cfg.cleanup());

/** A stderr that an operator reads: one "dbdrill: …" sentence, no stack trace. */
function expectOneSentence(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('dbdrill target (headless)', () => {
  it('prints its version quickly', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^dbdrill \d+\.\d+\.\d+\n$/);
  });

  it('adds, lists, shows and removes a target, with --json', async () => {
    const add = await runCli(
      ['target', 'add', 'prod', '--engine', 'postgres', '--host', 'db1.example', '--port', '5433', '--user', 'backup', '--dbname', 'app', '--repo', '/srv/repo', '--password-env', 'PROD_PW', '--rto', '4h', '--rpo', '15m'],
      { env },
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('Added target prod (postgres db1.example:5433)');

    const list = await runCli(['target', 'list', '--json'], { env });
    expect(list.code).toBe(0);
    const doc = JSON.parse(list.stdout) as { targets: Array<Record<string, unknown>> };
    expect(doc.targets).toEqual([
      { name: 'prod', engine: 'postgres', host: 'db1.example', port: 5433, user: 'backup', dbname: 'app', repo: '/srv/repo', passwordEnv: 'PROD_PW', rto: '4h', rpo: '15m' },
    ]);

    const text = await runCli(['target', 'list'], { env });
    expect(text.stdout).toMatch(/^NAME\s+ENGINE\s+ADDRESS/);
    expect(text.stdout).toMatch(/prod\s+postgres\s+db1\.example:5433\s+backup\s+app\s+\/srv\/repo/);

    const show = await runCli(['target', 'show', 'prod'], { env });
    expect(show.stdout).toMatch(/password\s+from \$PROD_PW/);

    const rm = await runCli(['target', 'remove', 'prod', '--json'], { env });
    expect(rm.code).toBe(0);
    expect(JSON.parse(rm.stdout)).toMatchObject({ ok: true, removed: { name: 'prod' } });
    const after = await runCli(['target', 'list', '--json'], { env });
    expect(JSON.parse(after.stdout)).toEqual({ targets: [] });
  });

  it('refuses a duplicate name with exit 2 and keeps the first target', async () => {
    const args = ['target', 'add', 'dup', '--engine', 'postgres', '--repo', '/r'];
    expect((await runCli(args, { env })).code).toBe(0);
    const again = await runCli([...args.slice(0, 4), 'mysql', '--dbname', 'x', '--repo', '/other'], { env });
    expect(again.code).toBe(2);
    expectOneSentence(again.stderr, /^dbdrill: A target named "dup" already exists; pick another name or remove it first/);
    const show = await runCli(['target', 'show', 'dup', '--json'], { env });
    expect(JSON.parse(show.stdout).target).toMatchObject({ engine: 'postgres', repo: '/r' });
  });

  it.each([
    [['target', 'show', 'ghost'], /^dbdrill: There is no target named "ghost" \(known targets: .*\)\.$/],
    [['target', 'add', 'p1', '--engine', 'postgres', '--port', '99999', '--repo', '/r'], /^dbdrill: port "99999" is out of range; use a port number from 1 to 65535\.$/],
    [['target', 'add', 'o1', '--engine', 'oracle', '--repo', '/r'], /^dbdrill: engine "oracle" is not supported; use --engine postgres or --engine mysql\.$/],
    [['target', 'add', 'n1', '--engine', 'postgres'], /^dbdrill: repo is missing; give it with --repo\.$/],
    [['target', 'add', 'f1', '--engine', 'postgres', '--repo', '/r', '--colour'], /^dbdrill: Unknown option "--colour"; usage: dbdrill target add NAME/],
    [['target', 'frobnicate'], /^dbdrill: Unknown target command "frobnicate"; use add, list, show, remove, test, edit, copy-add or copy-remove\.$/],
    [['launch'], /^dbdrill: Unknown command "launch"; run dbdrill --help/],
  ])('bad input %j gets exit 2 and one sentence', async (args, pattern) => {
    const r = await runCli(args, { env });
    expect(r.code).toBe(2);
    expectOneSentence(r.stderr, pattern);
  });

  it('reports bad input as JSON on stdout with --json', async () => {
    const r = await runCli(['target', 'show', 'ghost', '--json'], { env });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'unknown-target', target: 'ghost' } });
  });
});

describe('dbdrill target test against unreachable servers', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let silentPort = 0;
  let closedPort = 0;

  beforeAll(async () => {
    // A peer that accepts TCP and never speaks: the case that hangs naive clients.
    silent = createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as { port: number }).port;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    for (const [name, engine, port] of [
      ['pg-refused', 'postgres', closedPort],
      ['pg-silent', 'postgres', silentPort],
      ['my-silent', 'mysql', silentPort],
      ['my-refused', 'mysql', closedPort],
    ] as const) {
      const r = await runCli(['target', 'add', name, '--engine', engine, '--port', String(port), '--dbname', 'x', '--repo', '/r'], { env });
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('says nothing listens on a refused port, at once', async () => {
    for (const name of ['pg-refused', 'my-refused']) {
      const r = await runCli(['target', 'test', name], { env });
      expect(r.code).toBe(2);
      expectOneSentence(r.stderr, new RegExp(`^dbdrill: Nothing accepts connections at 127\\.0\\.0\\.1:${closedPort} \\(connection refused\\)`));
      expect(r.ms).toBeLessThan(5000);
    }
  });

  it('gives up on a silent server within seconds instead of hanging', async () => {
    // Both engines at once: each run mostly waits out its own 5 s deadline, so side by side they
    // take one deadline of wall time instead of two.
    const runs = await Promise.all(['pg-silent', 'my-silent'].map((name) => runCli(['target', 'test', name], { env, timeoutMs: 20_000 })));
    for (const r of runs) {
      expect(r.code).toBe(2);
      expectOneSentence(r.stderr, new RegExp(`^dbdrill: 127\\.0\\.0\\.1:${silentPort} did not answer within 5 s`));
      expect(r.ms).toBeLessThan(12_000);
    }
  }, 40_000);
});
