import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * A real terminal for end-to-end console tests: tmux at a fixed size, keys in, screen text out.
 * Each session gets its own socket (-L) so a test never touches a user's tmux server.
 */
export class TmuxSession {
  readonly socket = `dbdrill-test-${randomBytes(4).toString('hex')}`;
  readonly name = 'console';

  constructor(command: string, opts: { width?: number; height?: number; env?: Record<string, string> } = {}) {
    const envArgs = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // The shell prints the exit status and keeps the pane open, so the status can be read from
    // the screen (tmux's pane_dead_status races with a fast exit).
    const wrapped = `${command}; echo "[exit $?]"; sleep 600`;
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-s', this.name, '-x', String(opts.width ?? 80), '-y', String(opts.height ?? 24), ...envArgs, wrapped);
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.name);
  }

  /** Raw key names as tmux send-keys takes them: 'q', 'Enter', 'Down', 'Escape'. */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  async waitFor(test: (screen: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = this.screen();
      if (test(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`screen did not show what was expected within ${timeoutMs} ms; last screen:\n${last}`);
  }

  /** Exit status once the program has ended, undefined while it runs. */
  exitStatus(): number | undefined {
    const m = /\[exit (\d+)\]/.exec(this.screen());
    return m ? Number(m[1]) : undefined;
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}
