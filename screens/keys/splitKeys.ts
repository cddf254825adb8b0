import type { Key } from 'ink';

/**
 * Ink hands a chunk of plain characters over as one input ("jjj" from key repeat over SSH, or a
 * paste). Split it into single keys so each one moves, types or switches screens on its own.
 */
export function splitKeys(input: string, key: Key): Array<[string, Key]> {
  const chars = [...input];
  if (chars.length <= 1 || key.ctrl || key.meta) return [[input, key]];
  return chars.map((ch) => [
    ch,
    {
      ...key,
      return: ch === '\r' || ch === '\n',
      tab: ch === '\t',
      backspace: ch === '\u007f' || ch === '\b',
      shift: /[A-Z]/.test(ch),
    },
  ]);
}
