import { readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../repo/atomic.js';
import { checkFormat, damaged, readJsonFile } from '../util/untrusted-file.js';
import type { CopyRecord } from './record.js';
import { rclone, remoteRoot, type RcloneSpec } from './rclone.js';

/**
 * What prune removed from the primary repository and the copies must drop too:
 * `<repo>/copies/pruned.json`. Copies follow the primary's retention, but only by this list — a
 * file that merely vanished from the primary (a wiped disk, a slip of `rm`) is never deleted from a
 * copy, because the copy is then the only place it is left.
 */
export interface PrunedList {
  formatVersion: 1;
  backups: string[];
  files: string[];
  /**
   * Per pruned backup, the first archive file it needs (its WAL start segment, or the binlog its
   * position is in): a copy that keeps the backup longer (--keep-full) keeps the archive from there.
   */
  starts?: Record<string, string>;
}

const FILE = (repo: string) => join(repo, 'copies', 'pruned.json');

export function readPruned(repo: string): PrunedList {
  const file = FILE(repo);
  const raw = readJsonFile(file);
  if (raw === undefined) return { formatVersion: 1, backups: [], files: [] };
  const o = checkFormat(raw, file, { what: "the list of what prune removed (for the copies)", versionKey: 'formatVersion', version: 1 });
  const texts = (k: 'backups' | 'files') => {
    const v = o[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw damaged(file, `${k} must be a list of text`);
    return v as string[];
  };
  const starts = o.starts;
  if (starts !== undefined && (typeof starts !== 'object' || starts === null || Object.values(starts).some((x) => typeof x !== 'string'))) throw damaged(file, 'starts must map backup ids to file names');
  return { formatVersion: 1, backups: texts('backups'), files: texts('files'), ...(starts ? { starts: starts as Record<string, string> } : {}) };
}

/** Prune adds what it removed, after removing it (a crash in between only leaves a copy holding more). */
export function addPruned(repo: string, removed: { backups: string[]; files: string[]; starts?: Record<string, string> }): void {
  if (removed.backups.length === 0 && removed.files.length === 0) return;
  const cur = readPruned(repo);
  const starts = { ...cur.starts, ...removed.starts };
  const next: PrunedList = {
    formatVersion: 1,
    backups: [...new Set([...cur.backups, ...removed.backups])],
    files: [...new Set([...cur.files, ...removed.files])],
    ...(Object.keys(starts).length ? { starts } : {}),
  };
  writeFileAtomic(FILE(repo), `${JSON.stringify(next, null, 2)}\n`);
}

const backupOf = (rel: string): string | undefined => /^backups\/([^/]+)\//.exec(rel)?.[1];

/**
 * The entries of a copy's record that prune took from the primary and the copy drops (pure).
 *
 * A copy's own retention (`keepFull`, from `copy-add --keep-full N`): the copy keeps the N newest
 * full backups it holds even when prune removed them from the primary. Only fulls are kept longer
 * (a full restores on its own), so dropping a pruned diff or incr never breaks a kept chain; and
 * every pruned archive file from the oldest kept backup's start on stays (history files always),
 * so a kept base backup keeps the WAL or binlogs it needs. A kept backup whose start prune did not
 * record keeps the whole archive: when in doubt, the copy holds more.
 */
export function prunedEntries(record: CopyRecord, pruned: PrunedList, keepFull = 0): string[] {
  const held = [...new Set(Object.keys(record.files).map(backupOf).filter((x): x is string => x !== undefined))];
  const kept = new Set(held.filter((id) => /-[FL]$/.test(id)).sort().reverse().slice(0, Math.max(0, keepFull)));
  const ids = new Set(pruned.backups.filter((id) => !kept.has(id)));
  const files = new Set(pruned.files);
  const keptPruned = [...kept].filter((id) => pruned.backups.includes(id));
  // The oldest archive file a kept pruned backup needs; null: keep the whole archive.
  let from: string | null | undefined;
  for (const id of keptPruned) {
    const start = pruned.starts?.[id];
    if (start === undefined) {
      // A logical PostgreSQL dump needs no archive; anything else without a recorded start keeps all.
      if (!id.endsWith('-L')) from = null;
      continue;
    }
    if (from !== null && (from === undefined || start < from)) from = start;
  }
  const needed = (rel: string) => {
    if (from === undefined) return false;
    const name = rel.split('/').pop()!.replace(/\.(dbw|zst)$/, '');
    if (from === null || /\.history$/.test(name)) return true;
    return name >= from;
  };
  return Object.keys(record.files).filter((rel) => {
    const id = backupOf(rel);
    if (id !== undefined) return ids.has(id);
    return files.has(rel) && !needed(rel);
  });
}

/** Entries no copy's record holds any more are done with; the list keeps only what some copy still has. */
export function tidyPruned(repo: string, records: CopyRecord[]): void {
  const cur = readPruned(repo);
  if (cur.backups.length === 0 && cur.files.length === 0) return;
  const held = new Set(records.flatMap((r) => Object.keys(r.files)));
  const heldIds = new Set([...held].map((rel) => /^backups\/([^/]+)\//.exec(rel)?.[1]).filter((x): x is string => x !== undefined));
  const backups = cur.backups.filter((id) => heldIds.has(id));
  const starts = Object.fromEntries(Object.entries(cur.starts ?? {}).filter(([id]) => backups.includes(id)));
  const next: PrunedList = { formatVersion: 1, backups, files: cur.files.filter((f) => held.has(f)), ...(Object.keys(starts).length ? { starts } : {}) };
  if (next.backups.length === cur.backups.length && next.files.length === cur.files.length) return;
  if (next.backups.length === 0 && next.files.length === 0) rmSync(FILE(repo), { force: true });
  else writeFileAtomic(FILE(repo), `${JSON.stringify(next, null, 2)}\n`);
}

/**
 * Drops the pruned entries from the record, then writes the copy's index without them (through
 * `writeIndex`), then deletes their files from the copy: a copy killed in between holds files its
 * index no longer names (removed by the next run), never an index naming files that are gone.
 */
export async function dropFromLocal(dir: string, record: CopyRecord, gone: string[], writeIndex: () => void): Promise<void> {
  const stored = gone.map((rel) => record.files[rel]!.stored);
  for (const rel of gone) {
    delete record.files[rel];
    delete record.failed[rel];
  }
  writeIndex();
  for (const s of stored) {
    rmSync(join(dir, s), { force: true });
    removeEmptyParents(dir, dirname(s));
  }
}

export async function dropFromRemote(r: RcloneSpec, record: CopyRecord, gone: string[], writeIndex: () => Promise<void>, signal?: AbortSignal): Promise<void> {
  const stored = gone.map((rel) => record.files[rel]!.stored);
  for (const rel of gone) {
    delete record.files[rel];
    delete record.failed[rel];
  }
  await writeIndex();
  const work = mkdtempSync(join(tmpdir(), 'dbdrill-copy-prune-'));
  try {
    const list = join(work, 'files');
    writeFileSync(list, `${stored.join('\n')}\n`, { mode: 0o600 });
    await rclone(r, ['delete', '--files-from', list, '--no-traverse', remoteRoot(r)], { signal });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function removeEmptyParents(root: string, rel: string): void {
  for (let d = rel; d !== '.' && d !== '' && d !== '/'; d = dirname(d)) {
    const abs = join(root, d);
    try {
      if (readdirSync(abs).length > 0) return;
      rmdirSync(abs);
    } catch {
      return;
    }
  }
}
