import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../repo/manifest.js';
import type { CopiedFile, CopyRecord } from './record.js';

/** One file of the primary repository that a copy should hold. */
export interface SourceFile {
  rel: string;
  bytes: number;
  mtimeMs: number;
  /** The sha256 the manifest recorded (backup files); the copy must carry exactly these bytes. */
  sha256?: string;
  /** The backup it belongs to (for sentences and the catalog's "held" column). */
  backup?: string;
  /** Listed by its manifest but not in the primary repository (bytes and mtime are then 0). */
  missing?: boolean;
}

/** Temp files of wal-push, binlog-sync and of our own copies: never copied. */
const TEMP = (name: string) => name.startsWith('.') || name.endsWith('.tmp');

/**
 * What a copy of this repository holds: repo.json, every complete backup (its manifest and the
 * files it lists) and the whole WAL (wal/) or binlog (binlog/) archive. Drills, runs, locks and
 * the copy records themselves stay with the primary.
 */
export function sourceFiles(repo: string, manifests: Manifest[], only?: string, methodDirs: readonly string[] = []): SourceFile[] {
  const out: SourceFile[] = [];
  const add = (rel: string, extra: Partial<SourceFile> = {}) => {
    let st;
    try {
      st = lstatSync(join(repo, rel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (extra.backup) out.push({ rel, bytes: 0, mtimeMs: 0, ...extra, missing: true });
      return;
    }
    if (st.isFile()) out.push({ rel, bytes: st.size, mtimeMs: Math.floor(st.mtimeMs), ...extra });
    else if (extra.backup) out.push({ rel, bytes: 0, mtimeMs: 0, ...extra, missing: true });
  };
  add('repo.json');
  for (const m of manifests) {
    if (m.status !== 'complete' || (only !== undefined && m.id !== only)) continue;
    for (const f of m.files) add(`backups/${m.id}/${f.path}`, { sha256: f.sha256, backup: m.id });
    add(`backups/${m.id}/manifest.json`, { backup: m.id });
  }
  // A method's own repository (pgBackRest: sets and archive) goes whole; its tool checks its files.
  for (const dir of ['wal', 'binlog', ...methodDirs]) walk(repo, dir, (rel) => add(rel));
  return out;
}

function walk(repo: string, rel: string, found: (rel: string) => void): void {
  let entries;
  try {
    entries = readdirSync(join(repo, rel), { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (TEMP(e.name)) continue;
    // The batching archiver's spool records what this server was told; a copy has no use for it.
    if (rel === 'wal' && e.name === 'spool') continue;
    // Never follow a link: a planted symlink must not carry files from outside into a copy.
    if (e.isDirectory()) walk(repo, `${rel}/${e.name}`, found);
    else if (e.isFile()) found(`${rel}/${e.name}`);
  }
}

/**
 * The files the copy still lacks: not recorded as verified there, or changed in the primary since
 * (a manifest that got a verification appended). Pure: the record says what the copy holds.
 */
export function missingFiles(files: SourceFile[], record: CopyRecord, encrypted: boolean): SourceFile[] {
  return files.filter((f) => {
    const c: CopiedFile | undefined = record.files[f.rel];
    if (!c || !c.verifiedAt || record.failed[f.rel] !== undefined) return true;
    if (c.bytes !== f.bytes || c.mtimeMs !== f.mtimeMs) return true;
    if (f.sha256 !== undefined && c.sha256 !== f.sha256) return true;
    return c.stored !== storedName(f.rel, encrypted && c.sealed !== true);
  });
}

export function storedName(rel: string, encrypted: boolean): string {
  return encrypted ? `${rel}.age` : rel;
}

/** Every archive file (WAL or binlog) of the primary repository, repository-relative. */
export function archiveFiles(repo: string): Set<string> {
  const out = new Set<string>();
  for (const dir of ['wal', 'binlog']) walk(repo, dir, (rel) => out.add(rel));
  return out;
}
