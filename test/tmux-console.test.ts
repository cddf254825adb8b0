import { afterAll, describe, expect, it } from 'vitest';
import { CLI, tempConfigDir } from './helpers/cli.js';
import { TmuxSession } from './helpers/tmux.js';

const cfg = tempConfigDir();
const sessions: TmuxSession[] = [];
afterAll(async () => {
  for (const s of sessions) s.kill();
  await cfg.settle();
  cfg.cleanup();
});

function open(env: Record<string, string> = {}) {
  const s = new TmuxSession(`${process.execPath} ${CLI} --config ${cfg.dir}`, { width: 80, height: 24, env });
  sessions.push(s);
  return s;
}

describe('the console in a real 80x24 terminal (tmux)', () => {
  it('opens on the first-run offer, switches screens, shows help and quits cleanly', async () => {
    const t = open({ NO_COLOR: '1' });
    const first = await t.waitFor((s) => s.includes('No targets yet'));
    const lines = first.split('\n');
    expect(lines[0]).toMatch(/^dbdrill \d+\.\d+\.\d+ · Targets/);
    expect(first).toMatch(/training sandbox/i);
    // The frame fits: nothing wider than 80 columns, the footer on the last used row.
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(first).toMatch(/q quit/);

    t.keys('2');
    await t.waitFor((s) => /dbdrill .* · Catalog/.test(s));
    t.keys('?');
    const help = await t.waitFor((s) => s.includes('Keys (the same on every screen)'));
    expect(help).toMatch(/1-7\s+go to Targets, Catalog, Restore, Drill, Health, Training, Strategy$/m);
    t.keys('Escape');
    // A key sent right behind ESC would read as alt+key, as in any terminal: wait for the close.
    await t.waitFor((s) => !s.includes('Keys (the same on every screen)'));
    t.keys('1');
    await t.waitFor((s) => /· Targets/.test(s) && s.includes('No targets yet'));
    t.keys('q');
    const deadline = Date.now() + 5000;
    while (t.exitStatus() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(t.exitStatus()).toBe(0);
  });
});
