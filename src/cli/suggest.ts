/** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The known word closest to a mistyped one, if it is close enough to be what was meant: at most
 * two edits, and fewer than half the word (so "ls" does not become "rm"). Also a known word the
 * typed one is a prefix of ("rest" → "restore").
 */
export function closest(typed: string, known: readonly string[]): string | undefined {
  const t = typed.toLowerCase();
  let best: { word: string; d: number } | undefined;
  for (const word of known) {
    const d = editDistance(t, word);
    if (d < (best?.d ?? Infinity)) best = { word, d };
  }
  if (best && best.d <= 2 && best.d * 2 < Math.max(t.length, best.word.length)) return best.word;
  const prefixed = known.filter((w) => t.length >= 3 && w.startsWith(t));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
