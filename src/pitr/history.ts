/**
 * A timeline history file (wal/0000000N.history): one line per ancestor timeline, "parent
 * switchpoint reason", oldest first. Recovery can follow timeline N from a backup only when the
 * backup's timeline is one of those ancestors.
 */
export interface HistoryEntry {
  parent: number;
  switchpoint: string;
}

export function parseHistory(text: string): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+([0-9A-Fa-f]+\/[0-9A-Fa-f]+)/.exec(line);
    if (m) out.push({ parent: Number(m[1]), switchpoint: m[2]!.toUpperCase() });
  }
  return out;
}
