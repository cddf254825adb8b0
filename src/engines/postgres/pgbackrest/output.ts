/**
 * Reads what pgBackRest 2.45 prints with --log-level-console=detail while it backs up or restores
 * (see fixtures/pgbackrest/). It has no progress bar; every file copied gets a line with its size
 * and the share of the whole copy done so far, which is what progress is made of.
 */
export type OutputLine =
  | { kind: 'phase'; phase: 'checkpoint' | 'copying' | 'stopping' | 'archive-wait' }
  | { kind: 'start'; segment: string; lsn: string; timeline: number }
  | { kind: 'stop'; segment: string; lsn: string }
  | { kind: 'file'; action: 'backup' | 'restore'; path: string; bytes: number; percent: number }
  | { kind: 'prior'; label: string }
  | { kind: 'label'; label: string }
  /** pgBackRest took a full instead of the diff/incr asked for (no usable prior set). */
  | { kind: 'changed-to-full'; asked: string; why: string }
  | { kind: 'done'; what: string; bytes: number; files: number }
  | { kind: 'other'; text: string };

const PREFIX = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} P\d+\s+(?:INFO|DETAIL|WARN|DEBUG): /;
const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4, PB: 1024 ** 5 };

/** "768KB", "13.2MB", "8B" (pgBackRest's own size format, powers of 1024) as bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(B|KB|MB|GB|TB|PB)$/.exec(text.trim());
  return m ? Math.round(Number(m[1]) * UNITS[m[2]!]!) : undefined;
}

export function parseOutputLine(raw: string): OutputLine {
  const text = raw.replace(PREFIX, '');
  let m = /^(backup|restore) file (.+) \((\d+(?:\.\d+)?[KMGTP]?B)(?:, (\d+(?:\.\d+)?)%)?\)/.exec(text);
  if (m) return { kind: 'file', action: m[1] as 'backup' | 'restore', path: m[2]!, bytes: parseSize(m[3]!) ?? 0, percent: Number(m[4] ?? 0) };
  m = /^backup start archive = ([0-9A-F]{24}), lsn = ([0-9A-F]+\/[0-9A-F]+)/.exec(text);
  if (m) return { kind: 'start', segment: m[1]!, lsn: m[2]!, timeline: parseInt(m[1]!.slice(0, 8), 16) };
  m = /^backup stop archive = ([0-9A-F]{24}), lsn = ([0-9A-F]+\/[0-9A-F]+)/.exec(text);
  if (m) return { kind: 'stop', segment: m[1]!, lsn: m[2]! };
  m = /^new backup label = (\S+)/.exec(text);
  if (m) return { kind: 'label', label: m[1]! };
  m = /^last backup label = ([^,\s]+)/.exec(text);
  if (m) return { kind: 'prior', label: m[1]! };
  m = /^(.*), (diff|incr) backup has been changed to full/.exec(text);
  if (m) return { kind: 'changed-to-full', asked: m[2]!, why: m[1]! };
  m = /^(full|diff|incr|restore) (?:backup )?size = (\S+), file total = (\d+)/.exec(text);
  if (m) return { kind: 'done', what: m[1]!, bytes: parseSize(m[2]!) ?? 0, files: Number(m[3]) };
  // A spread checkpoint can take minutes; it must read as waiting, not as a hang.
  if (/^execute (?:non-)?exclusive (?:backup start|pg_start_backup)/.test(text)) return { kind: 'phase', phase: 'checkpoint' };
  if (/^check archive for prior segment/.test(text)) return { kind: 'phase', phase: 'copying' };
  if (/^execute (?:non-)?exclusive (?:backup stop|pg_stop_backup)/.test(text)) return { kind: 'phase', phase: 'stopping' };
  if (/^check archive for segment\(s\)/.test(text)) return { kind: 'phase', phase: 'archive-wait' };
  if (/^repo\d+: restore backup set/.test(text)) return { kind: 'phase', phase: 'copying' };
  return { kind: 'other', text };
}

export const PHASE_WORDS: Record<'checkpoint' | 'copying' | 'stopping' | 'archive-wait', string> = {
  checkpoint: 'waiting for checkpoint',
  copying: 'copying',
  stopping: 'stopping backup',
  'archive-wait': 'waiting for WAL to be archived',
};

/**
 * Bytes done and an estimate of the total from the per-file lines: the percent pgBackRest prints
 * is of the bytes it will copy (a diff or incr counts only what changed), so done / percent
 * estimates the total, better with every file. Rate and ETA as native backups report them.
 */
export class CopyProgress {
  #done = 0;
  #percent = 0;
  #last: { bytes: number; at: number } | undefined;
  #rate: number | undefined;

  update(file: { bytes: number; percent: number }, nowMs: number): { done: number; total?: number; rate?: number; etaSeconds?: number } {
    this.#done += file.bytes;
    this.#percent = Math.max(this.#percent, file.percent);
    if (!this.#last) this.#last = { bytes: this.#done, at: nowMs };
    else if (nowMs - this.#last.at > 200) {
      this.#rate = ((this.#done - this.#last.bytes) * 1000) / (nowMs - this.#last.at);
      this.#last = { bytes: this.#done, at: nowMs };
    }
    const total = this.#percent > 0 ? Math.max(this.#done, Math.round((this.#done * 100) / this.#percent)) : undefined;
    const eta = total !== undefined && this.#rate && this.#rate > 0 ? (total - this.#done) / this.#rate : undefined;
    return { done: this.#done, ...(total !== undefined ? { total } : {}), ...(this.#rate !== undefined ? { rate: this.#rate } : {}), ...(eta !== undefined ? { etaSeconds: eta } : {}) };
  }
}
