/**
 * Terminal cell widths, truncation and padding for one-line cells. Kept dependency-free: Ink's own
 * string-width is not one of our dependencies, and our text is mostly names, hosts and paths.
 */

/** Cells a code point takes: 0 for combining marks and zero-width characters, 2 for wide ones. */
function cellWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (
    (cp >= 0x0300 && cp <= 0x036f) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    cp === 0xfeff
  ) {
    return 0;
  }
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

export function textWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += cellWidth(ch.codePointAt(0)!);
  return w;
}

/** Cuts text to at most `width` cells, ending with "…" when something was cut. */
export function truncateEnd(text: string, width: number): string {
  if (width <= 0) return '';
  if (textWidth(text) <= width) return text;
  if (width === 1) return '…';
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = cellWidth(ch.codePointAt(0)!);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return out + '…';
}

/**
 * Cuts text to at most `width` cells keeping its end, starting with "…": for paths, where the
 * last components say the most.
 */
export function truncateStart(text: string, width: number): string {
  if (width <= 0) return '';
  if (textWidth(text) <= width) return text;
  if (width === 1) return '…';
  const chars = [...text];
  let out = '';
  let w = 0;
  for (let i = chars.length - 1; i >= 0; i--) {
    const ch = chars[i]!;
    const cw = cellWidth(ch.codePointAt(0)!);
    if (w + cw > width - 1) break;
    out = ch + out;
    w += cw;
  }
  return '…' + out;
}

/** Truncates, then pads with spaces to exactly `width` cells. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncateEnd(text, width);
  const pad = ' '.repeat(Math.max(0, width - textWidth(cut)));
  return align === 'right' ? pad + cut : cut + pad;
}

/**
 * Breaks text into lines of at most `width` cells at spaces (a word longer than a line is cut
 * hard). Lines after the first start with `indent`, which counts towards the width.
 */
export function wrapText(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  const room = () => width - (lines.length === 0 ? 0 : textWidth(indent));
  const push = () => {
    lines.push(lines.length === 0 ? line : indent + line);
    line = '';
  };
  for (const word of text.split(/ +/)) {
    let w = word;
    if (line !== '' && textWidth(line) + 1 + textWidth(w) > room()) push();
    while (textWidth(w) > room() && room() > 0) {
      // Hard-cut a word that cannot fit on any line (a long path).
      let cut = '';
      for (const ch of w) {
        if (textWidth(line + (line ? ' ' : '') + cut + ch) > room()) break;
        cut += ch;
      }
      if (cut === '') {
        if (line === '') break;
        push();
        continue;
      }
      line = line ? `${line} ${cut}` : cut;
      w = w.slice(cut.length);
      push();
    }
    if (w !== '') line = line ? `${line} ${w}` : w;
  }
  if (line !== '' || lines.length === 0) push();
  return lines;
}

/**
 * `text` wrapped into at most `maxLines` lines of `width - hang` cells: the caller puts the
 * first after a marker of `hang` cells and indents the others by as much, so they line up under
 * the text, never at column 1. When it does not fit, the last line ends in "…": a cut always shows.
 */
export function hangingLines(text: string, width: number, hang: number, maxLines = Infinity): string[] {
  const room = Math.max(1, width - hang);
  const all = wrapText(text, room);
  if (all.length <= maxLines) return all;
  const n = Math.max(1, maxLines);
  const kept = all.slice(0, n);
  // The rest joined on makes truncateEnd cut, and so end in "…".
  kept[n - 1] = truncateEnd(all.slice(n - 1).join(' '), room);
  return kept;
}
