/**
 * "Something in a target's repository changed": a backup, a verify, a drill or a disaster ended
 * on some screen. Screens that show what a repository holds (Targets' newest backup and window)
 * subscribe and re-read that target, so nothing stays on screen that is no longer true.
 */
export class ChangeFeed {
  #version = 0;
  #last: string | undefined;
  readonly #listeners = new Set<() => void>();

  notify(target: string): void {
    this.#version++;
    this.#last = target;
    for (const l of this.#listeners) l();
  }

  /** Increases with every change; for useSyncExternalStore. */
  version = (): number => this.#version;

  /** The target of the newest change. */
  last(): string | undefined {
    return this.#last;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
}
