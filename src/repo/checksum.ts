import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { FollowHash } from './follow-hash.js';

export interface FileSum {
  /** Path relative to the backup directory, with forward slashes. */
  path: string;
  bytes: number;
  sha256: string;
}

export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Every regular file below `dir` (sorted), except names for which `skip` says so. */
export async function listFiles(dir: string, skip: (rel: string) => boolean = () => false): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      const rel = relative(dir, full).split(sep).join('/');
      if (skip(rel)) continue;
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(rel);
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * The sha256 of every file in `rels`. Files hashed while they were written (see FollowHash) are
 * only finished, unless following them went wrong, when they are read afresh like the rest.
 */
export async function checksumFiles(dir: string, rels: string[], followed?: ReadonlyMap<string, FollowHash>): Promise<FileSum[]> {
  const sums: FileSum[] = [];
  for (const rel of rels) {
    const { sha256, bytes } = (await followed?.get(rel)?.finish()) ?? (await sha256File(join(dir, rel)));
    sums.push({ path: rel, bytes, sha256 });
  }
  return sums;
}

export interface Mismatch {
  path: string;
  problem: 'missing' | 'size' | 'checksum';
  expected: string;
  actual: string;
}

/** Re-reads every recorded file; names each one that is missing, truncated or altered. */
export async function verifyFiles(dir: string, files: FileSum[]): Promise<Mismatch[]> {
  const bad: Mismatch[] = [];
  for (const f of files) {
    const full = join(dir, f.path);
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch {
      bad.push({ path: f.path, problem: 'missing', expected: `${f.bytes} bytes`, actual: 'no file' });
      continue;
    }
    if (size !== f.bytes) {
      bad.push({ path: f.path, problem: 'size', expected: `${f.bytes} bytes`, actual: `${size} bytes` });
      continue;
    }
    const { sha256 } = await sha256File(full);
    if (sha256 !== f.sha256) bad.push({ path: f.path, problem: 'checksum', expected: f.sha256, actual: sha256 });
  }
  return bad;
}
