import { afterAll, describe, expect, it } from 'vitest';
import { listRestoredServers } from '../src/ops/restored-servers.js';
import { readSandboxState, stopNamedSandbox } from '../src/ops/sandbox.js';
import { readTrainingSession } from '../src/ops/training.js';
import { isPidAlive, signalProcess } from '../src/runner/process.js';
import { suggestedTime } from '../src/training/session.js';
import { stopSandbox } from '../src/sandbox/index.js';
import { CLI, runCli, tempConfigDir } from './helpers/cli.js';
import { TmuxSession } from './helpers/tmux.js';

/**
 * Issue 20's whole incident in a real 80x24 terminal, as a responder would walk it: a disaster on
 * the sandbox (Training), a look at Health, a restore to just before the damage chosen in the
 * picker, the recovery verified (scored: the table's rows and contents as before), and the
 * restored server stopped from the console.
 */
const cfg = tempConfigDir();
const env = { DBDRILL_CONFIG_DIR: cfg.dir };
let t: TmuxSession | undefined;

afterAll(async () => {
  t?.kill();
  for (const r of listRestoredServers(cfg.dir)) if (r.running) signalProcess(r.pid, 'SIGQUIT');
  await stopNamedSandbox(cfg.dir, 'postgres', { remove: true }).catch(async () => {
    const left = readSandboxState(cfg.dir, 'postgres');
    if (left) await stopSandbox(left).catch(() => {});
  });
  await cfg.settle();
  cfg.cleanup();
});

const lines = (screen: string) => screen.split('\n');
function expectFits(screen: string): void {
  expect(Math.max(...lines(screen).map((l) => [...l].length))).toBeLessThanOrEqual(80);
  expect(lines(screen)[23] ?? '').toBe('');
}

describe('a whole incident in the console (tmux 80x24, the real sandbox)', () => {
  it('break, notice on Health, restore to before the damage from the picker, verify, stop the restored server', async () => {
    const start = await runCli(['sandbox', 'start'], { env, timeoutMs: 180_000 });
    expect(start.code, start.stderr).toBe(0);
    t = new TmuxSession(`${process.execPath} ${CLI} --config ${cfg.dir}`, { width: 80, height: 24, env: { NO_COLOR: '1' } });
    await t.waitFor((s) => /› sandbox\s+postgres/.test(s), 30_000);

    // Break: drop a table on Training, confirmed by typing the sandbox's name.
    t.keys('6');
    await t.waitFor((s) => s.includes('› Drop a table'), 30_000);
    t.keys('Enter');
    await t.waitFor((s) => s.includes('Type its name to go ahead'));
    t.keys('-l', 'sandbox');
    t.keys('Enter');
    let s = await t.waitFor((x) => x.includes('The disaster happened'), 180_000);
    expectFits(s);
    t.keys('Enter');
    await t.waitFor((x) => x.includes('Training on sandbox: drop a table'));
    const session = readTrainingSession(cfg.dir, 'sandbox')!;
    expect(session.kind).toBe('drop-table');

    // Notice on Health: the live panel samples the sandbox.
    t.keys('5');
    s = await t.waitFor((x) => /sandbox · every 2s · sample [2-9]/.test(x), 60_000);
    expect(s).toMatch(/^(OK|WARN|CRIT)\s+/m);
    expectFits(s);

    // Restore from the picker: the disaster is marked; the time just before it is typed.
    t.keys('6');
    await t.waitFor((x) => x.includes('Training on sandbox'));
    t.keys('r');
    s = await t.waitFor((x) => x.includes('Recoverable window of sandbox:') && /^D \d\d:\d\d:\d\dZ/m.test(x), 60_000);
    expect(s).toContain('g last good commit');
    expectFits(s);
    t.keys('Tab');
    await t.waitFor((x) => /› Time/.test(x));
    const before = suggestedTime(session);
    t.keys('-l', before);
    await t.waitFor((x) => x.includes(before));
    t.keys('Enter');
    s = await t.waitFor((x) => x.includes('Plan: restore sandbox'), 60_000);
    expect(s).not.toContain('the damage comes back');
    expectFits(s);
    t.keys('-l', 'sandbox');
    t.keys('Enter');
    s = await t.waitFor((x) => x.includes('Restored: a new server is up on 127.0.0.1:') || /^FAIL /m.test(x), 240_000);
    expect(s).toContain('Restored: a new server is up');
    expectFits(s);
    const [server] = listRestoredServers(cfg.dir, 'sandbox');
    expect(server).toMatchObject({ running: true });
    expect(server!.name).toMatch(/^dbdrill-restore-sandbox-\d{8}T\d{6}Z$/);

    // Verify: the score reads the restored server's table against the rows before the damage.
    t.keys('Enter');
    await t.waitFor((x) => x.includes('Recoverable window of sandbox:'));
    t.keys('6');
    await t.waitFor((x) => x.includes('Training on sandbox'));
    t.keys('s');
    s = await t.waitFor((x) => /Scored \d+\/100/.test(x), 120_000);
    t.keys('Enter');
    s = await t.waitFor((x) => /Score \d+\/100/.test(x));
    expect(s).toMatch(/^(OK|WARN)\s+Score \d+\/100/m);
    expect(s).toMatch(/data\s+order_items is back with all \d+ rows/);

    // Stop the restored server from the console: X, then y.
    s = await t.waitFor((x) => x.includes(server!.name.slice(0, 30)), 30_000);
    t.keys('X');
    await t.waitFor((x) => x.includes('Stop it? y stops it'));
    t.keys('y');
    s = await t.waitFor((x) => x.includes('Stopped; its'), 60_000);
    expectFits(s);
    expect(isPidAlive(server!.pid)).toBe(false);
    expect(listRestoredServers(cfg.dir, 'sandbox')[0]!.running).toBe(false);
  }, 900_000);
});
