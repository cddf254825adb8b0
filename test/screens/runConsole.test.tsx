import { describe, expect, test } from 'vitest';
import { runConsole, type RunConsoleOptions } from '../../screens/render.js';
import { fakeApi, target } from './fakeApi.js';
import { FakeStdin, FakeStdout, stripAnsi } from './helpers.js';
import { VirtualTerminal } from './vt.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens the console on fake 80x24 terminal streams, types `keys` at a human pace, then quits with `quit`. */
async function session(keys: string[], extra: Partial<RunConsoleOptions> = {}, quit = '\u0003') {
  const stdout = new FakeStdout(80, 24);
  const stdin = new FakeStdin();
  const stderr = new FakeStdout();
  const done = runConsole({
    api: fakeApi({ targets: [target('prod'), target('staging'), target('reports')] }),
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    ...extra,
  });
  await sleep(150);
  const screens: { lines: string[]; scrolledOff: number }[] = [];
  for (const key of keys) {
    stdin.write(key);
    // Past the 100 ms frame interval (maxFps 10), so the frame for this key is out.
    await sleep(150);
    const vt = new VirtualTerminal(80, 24);
    vt.write(stdout.frames.join(''));
    screens.push({ lines: vt.lines(), scrolledOff: vt.scrolledOff });
  }
  let resolved = false;
  void done.then(() => (resolved = true));
  stdin.write(quit);
  await done;
  return { stdout, screens, resolved };
}

describe('runConsole on a terminal', () => {
  test('resolves on q and never clears the screen', async () => {
    const { stdout, resolved } = await session(['j', '2', '1', 'k', '?', '?'], {}, 'q');
    expect(resolved).toBe(true);
    const written = stdout.frames.join('');
    expect(stripAnsi(written)).toContain('staging');
    // A frame as tall as the terminal would make Ink clear it on every update (flicker).
    expect(written).not.toContain('\u001B[2J');
    expect(written).not.toContain('\u001Bc');
  });

  test('what a terminal shows after each key: the whole frame in place, nothing scrolled away', async () => {
    const { screens } = await session(['j', '2', '1', '?']);
    for (const s of screens) {
      expect(s.scrolledOff).toBe(0);
      expect(s.lines[0]).toMatch(/^dbdrill 0\.1\.0 · /);
      expect(s.lines[2]).toMatch(/^─{80}$/);
      expect(s.lines[21]).toMatch(/^─{80}$/);
      expect(s.lines[23]).toBe('');
    }
    const [afterJ, afterTwo, afterOne, afterHelp] = screens;
    expect(afterJ!.lines[5]).toMatch(/^› staging/);
    expect(afterTwo!.lines[0]).toContain('· Catalog');
    expect(afterTwo!.lines.join('\n')).not.toContain('reports');
    expect(afterOne!.lines[5]).toMatch(/^› staging/);
    expect(afterHelp!.lines[3]).toContain('Keys (the same on every screen)');
    expect(afterHelp!.lines.join('\n')).not.toContain('reports');
  });

  // Guards the default: once Ink's incremental renderer is fixed (Ink 7), this fails, and
  // incrementalRendering can be turned on in runConsole.
  test('Ink 6.8 incremental rendering still draws updates one row low (ink#909)', async () => {
    const { screens } = await session(['j', '2'], { incrementalRendering: true });
    expect(screens.some((s) => s.scrolledOff > 0 || !/^dbdrill/.test(s.lines[0]!))).toBe(true);
  });
});
