import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseDest, type CopySpec } from '../config/copies.js';
import type { Target } from '../config/target.js';
import { DbdrillError, invalid } from '../errors.js';
import { sha256File } from '../repo/checksum.js';
import { decryptFile } from '../crypto/age.js';
import { readJsonFile } from '../util/untrusted-file.js';
import { commit, copyHashing, tempNameFor } from './local-files.js';
import { INDEX_NAME, parseRecord, readRecord, writeRecord, type CopyRecord } from './record.js';
import { rclone, remoteRoot } from './rclone.js';

/** A file of a copy that is not what its index says. */
export interface CopyProblem {
  file: string;
  backup?: string;
  why: string;
}

const backupOf = (rel: string): string | undefined => /^backups\/([^/]+)\//.exec(rel)?.[1];

function describe(p: CopyProblem): string {
  return `${p.file}${p.backup ? ` (backup ${p.backup})` : ''}: ${p.why}`;
}

/**
 * Brings a copy's files to a directory of this host: the copy's own directory (local), or a
 * download of the remote (`rclone copy`) into `work`. Returns where they are and its index.
 */
async function reach(target: Target, spec: CopySpec, work: string, signal?: AbortSignal): Promise<{ dir: string; index: CopyRecord }> {
  const dest = parseDest(spec.dest)!;
  let dir: string;
  if (dest.kind === 'local') dir = dest.dir;
  else {
    dir = join(work, 'download');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await rclone({ config: spec.rcloneConfig }, ['copy', remoteRoot({ ...dest, config: spec.rcloneConfig }), dir], { signal });
  }
  const file = join(dir, INDEX_NAME);
  const raw = readJsonFile(file);
  if (raw === undefined) throw invalid(`The copy ${spec.name} at ${spec.dest} holds no ${INDEX_NAME}: nothing was copied there yet; run dbdrill copy ${target.name} --to ${spec.name} first.`);
  const index = parseRecord(raw, dest.kind === 'local' ? file : `${spec.dest}/${INDEX_NAME}`);
  if (index.target !== target.name || index.engine !== target.engine) {
    throw invalid(`The copy ${spec.name} at ${spec.dest} belongs to target "${index.target}" (${index.engine}), not ${target.name}; check the copy's --dest.`);
  }
  return { dir, index };
}

/**
 * Checks every file a copy holds against its index (the stored bytes' sha256; with an identity,
 * also the decrypted plaintext's), and, given `out`, writes the plaintext there as a repository
 * (each file temp + rename). Returns the problems; fetching stops at the first one.
 */
async function walkCopy(dir: string, index: CopyRecord, opts: { identity?: string; out?: string; scratch?: string; signal?: AbortSignal; copyName: string }): Promise<{ problems: CopyProblem[]; files: number; bytes: number }> {
  const problems: CopyProblem[] = [];
  let files = 0;
  let bytes = 0;
  for (const [rel, f] of Object.entries(index.files).sort(([a], [b]) => a.localeCompare(b))) {
    if (opts.signal?.aborted) throw new DbdrillError('aborted', 'Reading the copy was cancelled.');
    const src = join(dir, f.stored);
    const problem = (why: string): CopyProblem => ({ file: rel, ...(backupOf(rel) ? { backup: backupOf(rel)! } : {}), why });
    let stored: { sha256: string; bytes: number };
    try {
      stored = await sha256File(src);
    } catch (e) {
      problems.push(problem(`missing on the copy (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`));
      if (opts.out) break;
      continue;
    }
    if (stored.sha256 !== f.storedSha256 || stored.bytes !== f.storedBytes) {
      problems.push(problem(`corrupt on the copy: sha256 ${stored.sha256} (${stored.bytes} bytes), recorded ${f.storedSha256} (${f.storedBytes} bytes)`));
      if (opts.out) break;
      continue;
    }
    // The copy's own age layer is on the files it stored as rel.age; a file the primary had
    // already encrypted was stored as it is, and goes back as it is (the engine decrypts it).
    const copyLayer = index.encryption !== undefined && f.stored !== rel;
    if (copyLayer && opts.identity) {
      const target = opts.out ? join(opts.out, rel) : join(opts.scratch ?? tmpdir(), `plain-${process.pid}`);
      if (opts.out) mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      const tmp = opts.out ? tempNameFor(target) : target;
      const what = backupOf(rel) ? `Backup ${backupOf(rel)} (file ${rel}) on copy ${opts.copyName}` : `${rel} on copy ${opts.copyName}`;
      try {
        await decryptFile(src, tmp, opts.identity, what, opts.signal);
        const plain = await sha256File(tmp);
        if (plain.sha256 !== f.sha256) {
          problems.push(problem(`decrypted, its sha256 is ${plain.sha256}, recorded ${f.sha256}`));
          rmSync(tmp, { force: true });
          if (opts.out) break;
          continue;
        }
        if (opts.out) commit(tmp, target);
      } finally {
        if (!opts.out) rmSync(tmp, { force: true });
      }
    } else if (opts.out) {
      if (copyLayer) throw invalid(`The copy ${opts.copyName} is encrypted with age; give --identity FILE (the private key matching the target's --encrypt-to recipient) to read it.`);
      const target = join(opts.out, rel);
      const c = await copyHashing(src, target);
      if (c.sha256 !== f.sha256) {
        rmSync(c.tmp, { force: true });
        problems.push(problem(`changed while it was read: sha256 ${c.sha256}, recorded ${f.sha256}`));
        break;
      }
      commit(c.tmp, target);
    }
    files++;
    bytes += f.bytes;
  }
  return { problems, files, bytes };
}

export interface FetchedCopy {
  /** A temporary repository holding the copy's plaintext, checked file by file. */
  repo: string;
  files: number;
  bytes: number;
  seconds: number;
  /** Removes the temporary repository. */
  cleanup(): void;
}

/**
 * A copy as a repository a restore can read: fetched into a new temp directory (decrypted with
 * the identity when the copy is encrypted), every file checked against the copy's index. A file
 * that differs is named with its backup, and nothing is restored from it.
 */
export async function fetchCopy(target: Target, spec: CopySpec, opts: { identity?: string; signal?: AbortSignal; log?: (l: string) => void; owner?: { uid: number; gid: number } } = {}): Promise<FetchedCopy> {
  const t0 = performance.now();
  const work = mkdtempSync(join(tmpdir(), `dbdrill-from-${spec.name}-`));
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  try {
    const { dir, index } = await reach(target, spec, work, opts.signal);
    if (index.encryption && !opts.identity) {
      throw invalid(`The copy ${spec.name} of ${target.name} is encrypted with age; give --identity FILE (the private key matching the recipient ${index.encryption.recipients[0]}) or set DBDRILL_AGE_IDENTITY.`);
    }
    const repo = join(work, 'repo');
    mkdirSync(repo, { mode: 0o700 });
    opts.log?.(`fetching copy ${spec.name} (${Object.keys(index.files).length} file(s)) from ${spec.dest}`);
    const r = await walkCopy(dir, index, { identity: opts.identity, out: repo, signal: opts.signal, copyName: spec.name });
    if (r.problems.length > 0) {
      throw new DbdrillError('failed', `The copy ${spec.name} cannot be restored from: ${describe(r.problems[0]!)}; run dbdrill copy ${target.name} --to ${spec.name} to send it again from the primary, or restore from another copy.`, { file: r.problems[0]!.file });
    }
    if (dir.startsWith(work)) rmSync(dir, { recursive: true, force: true });
    // The server's user runs restore_command (wal-fetch) against this repository.
    chmodSync(work, 0o711);
    chmodSync(repo, 0o711);
    if (opts.owner) chownTree(join(repo, 'wal'), opts.owner);
    return { repo, files: r.files, bytes: r.bytes, seconds: (performance.now() - t0) / 1000, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

function chownTree(path: string, owner: { uid: number; gid: number }): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  chownSync(path, owner.uid, owner.gid);
  if (st.isDirectory()) for (const n of readdirSync(path)) chownTree(join(path, n), owner);
}

/**
 * The primary's record learns what a verification found: files that failed are sent again by the
 * next `copy`, the others get a new verifiedAt. Without the primary (it is lost), nothing to note.
 */
function noteVerification(target: Target, copy: string, index: CopyRecord, problems: CopyProblem[]): void {
  let record;
  try {
    record = readRecord(target.repo, copy);
  } catch {
    return;
  }
  if (!record) return;
  const at = new Date().toISOString();
  const bad = new Map(problems.map((p) => [p.file, p.why]));
  for (const rel of Object.keys(index.files)) {
    const f = record.files[rel];
    if (!f) continue;
    const why = bad.get(rel);
    if (why) {
      record.failed[rel] = why;
      delete f.verifiedAt;
    } else if (f.storedSha256 === index.files[rel]!.storedSha256) f.verifiedAt = at;
  }
  writeRecord(target.repo, record);
}

export interface CopyCheck {
  target: string;
  copy: string;
  files: number;
  /** Whether the plaintext was checked too (an encrypted copy with --identity). */
  decrypted: boolean;
  problems: CopyProblem[];
  problemLines: string[];
}

/** `copy NAME --verify`: every file on the copy against its index; corrupt ones named. */
export async function checkCopy(target: Target, spec: CopySpec, opts: { identity?: string; signal?: AbortSignal } = {}): Promise<CopyCheck> {
  const work = mkdtempSync(join(tmpdir(), `dbdrill-verify-${spec.name}-`));
  try {
    const { dir, index } = await reach(target, spec, work, opts.signal);
    const r = await walkCopy(dir, index, { identity: opts.identity, scratch: work, signal: opts.signal, copyName: spec.name });
    noteVerification(target, spec.name, index, r.problems);
    return { target: target.name, copy: spec.name, files: Object.keys(index.files).length, decrypted: index.encryption !== undefined && opts.identity !== undefined, problems: r.problems, problemLines: r.problems.map(describe) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
