import { render, type RenderOptions } from 'ink';
import type { ConsoleApi } from './api.js';
import { App } from './App/App.js';

export interface RunConsoleOptions {
  api: ConsoleApi;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  /**
   * Ink's line-diffing renderer. Off by default: in Ink 6.8 it rewinds one row too few when the
   * frame ends in a newline (every frame shorter than the terminal does), so each update lands
   * one row low and scrolls the header away (ink#909, fixed in Ink 7.0.0). Turn it on after
   * upgrading; test/screens/runConsole.test.tsx replays the bytes through a terminal to check.
   */
  incrementalRendering?: boolean;
}

/**
 * Opens the console and resolves when the operator quits (q on Targets, or ctrl-c). The caller
 * checks that stdin and stdout are terminals and sets FORCE_COLOR=0 for NO_COLOR before ink is
 * first imported; this module imports ink, so import it lazily after that.
 */
export async function runConsole(opts: RunConsoleOptions): Promise<void> {
  const options: RenderOptions = {
    // 10 frames a second is plenty for people and ~100x fewer bytes over SSH than redrawing all.
    maxFps: 10,
    incrementalRendering: opts.incrementalRendering ?? false,
    // Our own key handler quits on ctrl-c, so it goes through the same exit path as q.
    exitOnCtrlC: false,
    // Engine code never writes to the console while the screens are up; no need to intercept.
    patchConsole: false,
  };
  // Ink spreads options over its defaults, so an explicit undefined would erase process.stdin.
  if (opts.stdin) options.stdin = opts.stdin;
  if (opts.stdout) options.stdout = opts.stdout;
  if (opts.stderr) options.stderr = opts.stderr;
  const instance = render(<App api={opts.api} />, options);
  try {
    await instance.waitUntilExit();
  } finally {
    instance.cleanup();
  }
}
