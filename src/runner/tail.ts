/**
 * The last N lines a tool printed. A tool may print millions of lines (pg_restore -v on a large
 * schema); only a bounded tail is kept, for error messages and the console's log pane.
 */
export class Tail {
  readonly #lines: string[];
  #next = 0;
  #count = 0;
  #total = 0;

  constructor(readonly capacity = 200) {
    this.#lines = new Array<string>(capacity);
  }

  push(line: string): void {
    this.#lines[this.#next] = line;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#count < this.capacity) this.#count++;
    this.#total++;
  }

  /** Lines seen in all, including those no longer kept. */
  get total(): number {
    return this.#total;
  }

  /** The kept lines, oldest first; `last` limits to the newest ones. */
  lines(last = this.#count): string[] {
    const n = Math.min(last, this.#count);
    const out: string[] = [];
    for (let i = this.#count - n; i < this.#count; i++) {
      out.push(this.#lines[(this.#next - this.#count + i + this.capacity) % this.capacity]!);
    }
    return out;
  }
}

/**
 * Splits a byte stream into lines. `\r` ends a line too: pg_basebackup and mariadb-backup redraw
 * progress with carriage returns when they think they write to a terminal.
 */
export class LineSplitter {
  #rest = '';
  readonly #decoder = new TextDecoder();

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Uint8Array | string): void {
    const text = this.#rest + (typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true }));
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || c === 13) {
        if (i > start) this.onLine(text.slice(start, i));
        start = i + 1;
      }
    }
    this.#rest = text.slice(start);
    // A tool that never prints a newline must not grow this buffer without bound.
    if (this.#rest.length > 64 * 1024) {
      this.onLine(this.#rest);
      this.#rest = '';
    }
  }

  end(): void {
    const tail = this.#rest + this.#decoder.decode();
    this.#rest = '';
    if (tail.length > 0) this.onLine(tail);
  }
}
