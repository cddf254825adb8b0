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
  // The terminal's alternate screen, as htop, k9s and lazygit use: quitting gives back the
  // shell's screen as it was, with no last frame left in the scrollback. Left again on any exit,
  // a crash included (the 'exit' handler runs even then).
  const out = opts.stdout ?? process.stdout;
  let inAlt = true;
  const leave = () => {
    if (!inAlt) return;
    inAlt = false;
    out.write(LEAVE_ALT_SCREEN);
  };
  out.write(ENTER_ALT_SCREEN);
  process.once('exit', leave);
  let instance: ReturnType<typeof render> | undefined;
  try {
    instance = render(<App api={opts.api} />, options);
    await instance.waitUntilExit();
  } finally {
    instance?.cleanup();
    leave();
    process.removeListener('exit', leave);
  }
}

/** Switch to the alternate screen (and home the cursor), and back. */
export const ENTER_ALT_SCREEN = '\u001B[?1049h\u001B[H';
export const LEAVE_ALT_SCREEN = '\u001B[?1049l';
