import { EventEmitter } from 'node:events';
import { render, type Instance } from 'ink';
import type { ReactElement } from 'react';
import { expect } from 'vitest';
import { App } from '../../screens/App/App.js';
import type { ConsoleApi } from '../../screens/api.js';

/** A terminal-sized stdout: ink-testing-library's has 100 columns and no rows. */
export class FakeStdout extends EventEmitter {
  isTTY = true;
  readonly frames: string[] = [];
  constructor(
    public columns = 80,
    public rows = 24,
  ) {
    super();
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    return true;
  };
  lastFrame = (): string => this.frames.at(-1) ?? '';
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

/** A stdin that reports raw mode support (isTTY, setRawMode), so useInput is active. */
export class FakeStdin extends EventEmitter {
  isTTY = true;
  #data: string | null = null;
  write = (data: string): void => {
    this.#data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = (): string | null => {
    const d = this.#data;
    this.#data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

export const KEYS = {
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
  backspace: '\u007F',
  ctrlC: '\u0003',
} as const;

export interface Rendered {
  instance: Instance;
  stdout: FakeStdout;
  stdin: FakeStdin;
  lastFrame(): string;
  /** Types keys one event at a time, letting Ink's escape-sequence flush run in between. */
  press(...keys: string[]): Promise<void>;
  waitForFrame(predicate: (frame: string) => boolean, what?: string, timeoutMs?: number): Promise<string>;
  /**
   * Presses `key` and waits for `predicate`, pressing it again every 2 s while the frame has not
   * changed to it: for a key whose second press is harmless, on a machine so loaded that a key
   * typed the moment a screen came back was not seen (two clean-clone CI runs, the Training score).
   */
  pressUntil(key: string, predicate: (frame: string) => boolean, what?: string, timeoutMs?: number): Promise<string>;
  unmount(): void;
}

const mounted: Rendered[] = [];

/** Renders at 80x24 (or as asked) in debug mode, where every write is one whole frame. */
export function renderAt(tree: ReactElement, size: { columns?: number; rows?: number } = {}): Rendered {
  const stdout = new FakeStdout(size.columns ?? 80, size.rows ?? 24);
  const stdin = new FakeStdin();
  const stderr = new FakeStdout();
  const instance = render(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const r: Rendered = {
    instance,
    stdout,
    stdin,
    lastFrame: () => stdout.lastFrame(),
    async press(...keys) {
      for (const k of keys) {
        stdin.write(k);
        await tick();
      }
    },
    waitForFrame: (predicate, what, timeoutMs) => waitForFrame(() => stdout.lastFrame(), predicate, what, timeoutMs, stdout.frames),
    async pressUntil(key, predicate, what, timeoutMs = 10_000) {
      const until = realNow() + timeoutMs;
      for (let press = 1; ; press++) {
        await r.press(key);
        try {
          const frame = await waitForFrame(() => stdout.lastFrame(), predicate, what, Math.min(2000, Math.max(0, until - realNow())), stdout.frames);
          if (press > 1) console.warn(`pressUntil: "${key}" took ${press} presses`);
          return frame;
        } catch (e) {
          if (realNow() >= until) throw e;
          // Said at once, so a CI log shows what the screen did with the key it seemed to ignore.
          console.warn(`pressUntil: "${key}" press ${press} not answered yet. ${(e as Error).message}`);
        }
      }
    },
    unmount() {
      instance.unmount();
      instance.cleanup();
    },
  };
  mounted.push(r);
  return r;
}

export function renderApp(api: ConsoleApi, size?: { columns?: number; rows?: number }): Rendered {
  return renderAt(<App api={api} />, size);
}

/** Unmounts everything rendered so far; call from afterEach. */
export function cleanupAll(): void {
  for (const r of mounted.splice(0)) r.unmount();
}

export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The real clock and timer, taken before any test can fake them: a test that fakes the screens'
 * timers (vi.useFakeTimers) still polls frames and times out in real time.
 */
const realSetTimeout = globalThis.setTimeout;
const realNow = Date.now;

/**
 * Polls until the frame satisfies `predicate`; fails with the last frame so the diff is readable,
 * and, given the frames written (`history`), with the body's first line of each frame drawn while
 * it waited: a frame that came and went (a view replaced by an older one) shows there.
 */
export async function waitForFrame(
  get: () => string,
  predicate: (frame: string) => boolean,
  what = 'the expected frame',
  // Generous: under CI load (servers and integration tests beside the screens) a frame can take
  // seconds; a wait that is met returns at once, so only a failing test pays for it.
  timeoutMs = 10_000,
  history?: readonly string[],
): Promise<string> {
  const until = realNow() + timeoutMs;
  const from = history?.length ?? 0;
  for (;;) {
    const frame = get();
    if (predicate(frame)) return frame;
    if (realNow() > until) throw new Error(`Timed out waiting for ${what}. Last frame:\n${frame}${history ? framesSeen(history.slice(Math.max(0, from - 1))) : ''}`);
    await new Promise((resolve) => realSetTimeout(resolve, 10));
  }
}

/** The body's first line (below header and tabs) of each frame, repeats folded, the last 12. */
function framesSeen(frames: readonly string[]): string {
  const lines: string[] = [];
  for (const f of frames) {
    const body = stripAnsi(f).split('\n').slice(3).find((l) => l.trim() !== '') ?? '';
    if (lines.at(-1) !== body) lines.push(body);
  }
  return `\nFrames drawn meanwhile (${frames.length}), first body line of each:\n${lines.slice(-12).map((l) => `  | ${l.trimEnd()}`).join('\n')}`;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

export function frameLines(frame: string): string[] {
  return stripAnsi(frame).split('\n');
}

/** The line that holds the selection marker, without the marker. */
export function selectedLine(frame: string): string | undefined {
  return frameLines(frame).find((l) => l.startsWith('› '));
}

/** At most 23 lines (one short of the 24-row terminal) of at most 80 columns. */
export function expectFits(frame: string, size: { columns?: number; rows?: number } = {}): void {
  const lines = frameLines(frame);
  expect(lines.length).toBeLessThanOrEqual((size.rows ?? 24) - 1);
  for (const line of lines) expect([...line].length).toBeLessThanOrEqual(size.columns ?? 80);
}
