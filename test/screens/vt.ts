/**
 * A tiny terminal emulator for the escape sequences Ink writes, so a test can replay the bytes a
 * real terminal would receive and read the resulting screen: what the operator actually sees,
 * including rows that scrolled away. '\n' acts as CR+LF, as a tty with onlcr makes it.
 */
export class VirtualTerminal {
  readonly grid: string[][];
  row = 0;
  col = 0;
  /** Lines pushed off the top: a frame taller than expected, or one drawn a row too low. */
  scrolledOff = 0;
  #pendingWrap = false;

  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    this.grid = Array.from({ length: rows }, () => Array<string>(columns).fill(' '));
  }

  write(data: string): void {
    const chars = [...data];
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i]!;
      if (ch === '\u001B') {
        i = this.#escape(chars, i);
        continue;
      }
      if (ch === '\r') {
        this.col = 0;
        this.#pendingWrap = false;
      } else if (ch === '\n') {
        this.col = 0;
        this.#lineFeed();
      } else if (ch >= ' ') {
        if (this.#pendingWrap) {
          this.col = 0;
          this.#lineFeed();
        }
        this.grid[this.row]![this.col] = ch;
        if (this.col === this.columns - 1) this.#pendingWrap = true;
        else this.col++;
      }
    }
  }

  lines(): string[] {
    return this.grid.map((r) => r.join('').trimEnd());
  }

  #lineFeed(): void {
    this.#pendingWrap = false;
    if (this.row === this.rows - 1) {
      this.grid.shift();
      this.grid.push(Array<string>(this.columns).fill(' '));
      this.scrolledOff++;
    } else {
      this.row++;
    }
  }

  #escape(chars: string[], start: number): number {
    const next = chars[start + 1];
    if (next === 'c') {
      for (const r of this.grid) r.fill(' ');
      this.row = this.col = 0;
      return start + 1;
    }
    if (next !== '[') return start + 1;
    let i = start + 2;
    let params = '';
    while (i < chars.length && /[0-9;?]/.test(chars[i]!)) params += chars[i++];
    const final = chars[i];
    const n = params === '' || params.startsWith('?') ? 1 : Number(params.split(';')[0]) || 0;
    this.#pendingWrap = false;
    switch (final) {
      case 'A':
        this.row = Math.max(0, this.row - Math.max(1, n));
        break;
      case 'B':
        this.row = Math.min(this.rows - 1, this.row + Math.max(1, n));
        break;
      case 'E':
        this.row = Math.min(this.rows - 1, this.row + Math.max(1, n));
        this.col = 0;
        break;
      case 'F':
        this.row = Math.max(0, this.row - Math.max(1, n));
        this.col = 0;
        break;
      case 'G':
        this.col = Math.min(this.columns - 1, Math.max(1, n) - 1);
        break;
      case 'H': {
        const [r = 1, c = 1] = params.split(';').map((x) => Number(x) || 1);
        this.row = Math.min(this.rows - 1, r - 1);
        this.col = Math.min(this.columns - 1, c - 1);
        break;
      }
      case 'K': {
        const mode = params === '' ? 0 : Number(params);
        const line = this.grid[this.row]!;
        if (mode === 2) line.fill(' ');
        else if (mode === 1) line.fill(' ', 0, this.col + 1);
        else line.fill(' ', this.col);
        break;
      }
      case 'J':
        if (params === '2' || params === '3') for (const r of this.grid) r.fill(' ');
        else if (params === '' || params === '0') {
          this.grid[this.row]!.fill(' ', this.col);
          for (let r = this.row + 1; r < this.rows; r++) this.grid[r]!.fill(' ');
        }
        break;
      default:
        // SGR colours, cursor show/hide, synchronized output: no effect on the characters.
        break;
    }
    return i;
  }
}
