import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isPidAlive, processStartToken } from '../runner/process.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseDest, type CopySpec } from '../config/copies.js';
import type { Target } from '../config/target.js';
import { DbdrillError, invalid } from '../errors.js';
import { engineFor } from '../engines/registry.js';
import { writeFileAtomic } from '../repo/atomic.js';
import { sha256File } from '../repo/checksum.js';
import { Repository } from '../repo/repository.js';
import { encryptFile } from '../crypto/age.js';
import { readJsonFile } from '../util/untrusted-file.js';
import { commit, copyHashing, fsyncFile, readBack, sweepTemps, tempNameFor } from './local-files.js';
import { emptyRecord, INDEX_NAME, parseRecord, readRecord, writeRecord, type CopyRecord } from './record.js';
import { rclone, remoteRoot, remoteSha256, type RcloneSpec } from './rclone.js';
import { copyForm } from './sealed-source.js';
import { missingFiles, sourceFiles, type SourceFile } from './source.js';
import { dropFromLocal, dropFromRemote, prunedEntries, readPruned, tidyPruned } from './prune.js';

export interface CopyReport {
  target: string;
  copy: string;
  dest: string;
  encrypted: boolean;
  /** Files the copy should hold, and how many of them were sent by this run. */
  files: number;
  sent: number;
  sentBytes: number;
  verified: number;
  /** How the copy's bytes were checked: read back (local), hashed by the remote, or downloaded. */
  verifiedBy: 'read back' | 'remote hash' | 'download' | 'nothing to verify';
  failed: { file: string; backup?: string; why: string }[];
  /** Files dropped from the copy because prune removed them from the primary. */
  dropped: number;
  seconds: number;
}

export interface CopyOptions {
  backup?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** The copy named COPY of a target, or one sentence listing the ones it has. */
export function copyOf(target: Target, name: string): CopySpec {
  const c = target.copies?.find((x) => x.name === name);
  if (!c) {
    const have = target.copies?.map((x) => x.name) ?? [];
    throw invalid(`Target ${target.name} has no copy "${name}"; ${have.length ? `its copies are ${have.join(', ')}` : `add one with: dbdrill target copy-add ${target.name} COPY --dest DIR`}.`);
  }
  return c;
}

/**
 * Sends what a copy lacks (backups with all their files, the WAL/binlog archive, repo.json),
 * file by file, then checks each file on the copy against the sha256 recorded for it. Resumable:
 * the record says what the copy holds verified, so a run killed half-way sends only the rest.
 */
export async function runCopy(target: Target, spec: CopySpec, opts: CopyOptions = {}): Promise<CopyReport> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const repo = new Repository(target.repo);
  const info = repo.info();
  const methodDirs = (await engineFor(target)).methodOf(target).copiedDirs ?? [];
  // A method with a repository of its own (pgBackRest) may hold every backup there, with no repo.json.
  if (!info && !methodDirs.some((d) => existsSync(join(target.repo, d)))) throw invalid(`The repository ${target.repo} of target ${target.name} holds no backups yet (no repo.json); take one with: dbdrill backup ${target.name} --kind physical.`);
  const { manifests } = repo.catalog();
  if (opts.backup !== undefined) {
    const m = repo.readManifest(opts.backup);
    if (m.status !== 'complete') throw invalid(`Backup ${m.id} is ${m.status}, not complete; only complete backups are copied (list them with dbdrill catalog ${target.name}).`);
  }
  const encryption = target.encryptTo?.length ? { tool: 'age' as const, recipients: target.encryptTo } : undefined;
  let record = readRecord(target.repo, spec.name) ?? emptyRecord(spec.name, spec.dest, target.name, target.engine);
  // Another destination or other keys: what the record says the copy holds no longer applies.
  if (record.dest !== spec.dest || JSON.stringify(record.encryption?.recipients ?? []) !== JSON.stringify(encryption?.recipients ?? [])) {
    record = emptyRecord(spec.name, spec.dest, target.name, target.engine);
  }
  if (info?.systemId) record.systemId = info.systemId;
  if (encryption) record.encryption = encryption;
  else delete record.encryption;

  const dest = parseDest(spec.dest)!;
  const rc: RcloneSpec | undefined = dest.kind === 'rclone' ? { remote: dest.remote, path: dest.path, config: spec.rcloneConfig } : undefined;
  const index = dest.kind === 'local' ? readLocalIndex(record.copy, dest.dir) : await readRemoteIndex(rc!, opts.signal);
  checkIndex(index, dest.kind === 'local' ? join(dest.dir, INDEX_NAME) : `${spec.dest}/${INDEX_NAME}`, target, record.systemId);
  forgetIfEmptied(record, index === undefined, log);
  const files = sourceFiles(target.repo, manifests, opts.backup, methodDirs);
  const todo = missingFiles(files.filter((f) => !f.missing), record, encryption !== undefined);
  log(`copy ${spec.name}: ${files.length} file(s) in scope, ${todo.length} to send${encryption ? ' (encrypted with age)' : ''}`);
  const report: CopyReport = {
    target: target.name,
    copy: spec.name,
    dest: spec.dest,
    encrypted: encryption !== undefined,
    files: files.length,
    sent: 0,
    sentBytes: 0,
    verified: 0,
    verifiedBy: 'nothing to verify',
    failed: [],
    dropped: 0,
    seconds: 0,
  };
  for (const f of files.filter((x) => x.missing)) fail(report, record, f, `it is missing from the primary repository although backup ${f.backup}'s manifest lists it; check the backup with dbdrill verify ${target.name} --backup ${f.backup}`, log);
  const release = lockCopy(target.repo, spec.name);
  try {
    // Retention first: what prune took from the primary leaves the copy too (only that; see copies/prune.ts).
    // A copy with its own retention (--keep-full) keeps its newest fulls and the archive they need.
    const gone = prunedEntries(record, readPruned(target.repo), spec.keepFull);
    if (gone.length > 0) {
      log(`copy ${spec.name}: dropping ${gone.length} file(s) that prune removed from the primary`);
      if (dest.kind === 'local') {
        await dropFromLocal(dest.dir, record, gone, () => {
          writeRecord(target.repo, record);
          writeIndexLocal(dest.dir, record);
        });
      } else {
        await dropFromRemote(rc!, record, gone, async () => {
          writeRecord(target.repo, record);
          await writeIndexRemote(rc!, record, opts.signal);
        }, opts.signal);
      }
      report.dropped = gone.length;
    }
    if (dest.kind === 'local') await sendLocal(target, dest.dir, record, todo, report, opts, log);
    else await sendRclone(target, rc!, record, todo, report, opts, log);
  } finally {
    release();
  }
  report.seconds = (performance.now() - t0) / 1000;
  record.lastRun = { at: new Date().toISOString(), sent: report.sent, verified: report.verified, failed: report.failed.length, seconds: report.seconds };
  writeRecord(target.repo, record);
  tidyPruned(target.repo, (target.copies ?? []).map((c) => (c.name === spec.name ? record : readRecord(target.repo, c.name))).filter((r): r is CopyRecord => r !== undefined));
  return report;
}

/**
 * One copy run per copy at a time (`<repo>/copies/<COPY>.lock`, created exclusively, holding the
 * pid): two runs would sweep each other's temp files. A lock whose process is gone is taken over.
 */
function lockCopy(repo: string, copy: string): () => void {
  const dir = join(repo, 'copies');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${copy}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid} ${processStartToken(process.pid) ?? ''}\n`, { flag: 'wx', mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = NaN;
      let token = '';
      try {
        [pid, token] = ((t) => [Number(t[0]), t[1] ?? ''] as const)(readFileSync(file, 'utf8').trim().split(' '));
      } catch {
        // removed meanwhile
      }
      // The pid of a run killed long ago may belong to another process now: its start token tells.
      if (Number.isInteger(pid) && pid > 0 && isPidAlive(pid) && (token === '' || processStartToken(pid) === token)) {
        throw new DbdrillError('failed', `Another dbdrill copy to ${copy} is running (pid ${pid}); wait for it to finish, or remove ${file} if that process is not dbdrill.`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new DbdrillError('failed', `Could not take the copy lock ${file}; remove it if no dbdrill copy runs.`);
}

/**
 * A copy whose index is gone while the record says it holds files was emptied or replaced (a new
 * disk, a wiped bucket): what the record says no longer holds, so everything is sent again.
 */
/** The dest's own index (undefined: none), after checking the dest is there at all. */
function readLocalIndex(copy: string, dir: string): unknown {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new DbdrillError('failed', `The copy ${copy}'s dest ${dir} ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist (a disk that is not mounted?)' : `cannot be read (${(e as NodeJS.ErrnoException).code})`}; mount or create it, then run the copy again.`);
  }
  if (!st.isDirectory()) throw new DbdrillError('failed', `The copy ${copy}'s dest ${dir} is not a directory; fix the dest with target copy-remove and copy-add.`);
  return readJsonFile(join(dir, INDEX_NAME));
}

async function readRemoteIndex(r: RcloneSpec, signal?: AbortSignal): Promise<unknown> {
  // 3: directory not found, 4: file not found — a copy nothing was sent to yet.
  const existing = await rclone(r, ['cat', `${remoteRoot(r)}/${INDEX_NAME}`], { capture: true, okExitCodes: [0, 3, 4], signal });
  if (existing.exitCode !== 0 || !existing.stdout.trim()) return undefined;
  try {
    return JSON.parse(existing.stdout);
  } catch {
    return {};
  }
}

function forgetIfEmptied(record: CopyRecord, indexMissing: boolean, log: (l: string) => void): void {
  if (!indexMissing || Object.keys(record.files).length === 0) return;
  log(`copy ${record.copy}: its ${INDEX_NAME} is gone although ${Object.keys(record.files).length} file(s) were copied there; sending everything again`);
  record.files = {};
}

/** The index a copy already holds must be this target's (and server's): never mix two repositories. */
function checkIndex(raw: unknown, where: string, target: Target, systemId: string | undefined): void {
  if (raw === undefined) return;
  const idx = parseRecord(raw, where);
  if (idx.target !== target.name || idx.engine !== target.engine) {
    throw invalid(`The copy at ${where.replace(`/${INDEX_NAME}`, '')} belongs to target "${idx.target}" (${idx.engine}), not ${target.name}; give this copy a destination of its own.`);
  }
  if (systemId && idx.systemId && idx.systemId !== systemId) {
    throw invalid(`The copy at ${where.replace(`/${INDEX_NAME}`, '')} holds backups of another server (system id ${idx.systemId}, this target's is ${systemId}); give this copy a destination of its own.`);
  }
}

function fail(report: CopyReport, record: CopyRecord, f: SourceFile, why: string, log: (l: string) => void): void {
  record.failed[f.rel] = why;
  const c = record.files[f.rel];
  if (c) delete c.verifiedAt;
  report.failed.push({ file: f.rel, ...(f.backup ? { backup: f.backup } : {}), why });
  log(`FAIL ${f.rel}: ${why}`);
}

async function sendLocal(target: Target, dir: string, record: CopyRecord, todo: SourceFile[], report: CopyReport, opts: CopyOptions, log: (l: string) => void): Promise<void> {
  const swept = sweepTemps(dir);
  if (swept) log(`removed ${swept} temp file(s) of an earlier copy that did not finish`);
  let lastFlush = performance.now();
  for (const f of todo) {
    if (opts.signal?.aborted) throw new DbdrillError('aborted', `The copy to ${record.copy} was cancelled; run it again to send the rest.`);
    const src = join(target.repo, f.rel);
    const { sealed, stored } = copyForm(src, f.rel, record.encryption !== undefined);
    const out = join(dir, stored);
    let plain: { sha256: string; bytes: number };
    let storedSum: { sha256: string; bytes: number };
    let tmp: string;
    if (record.encryption && !sealed) {
      plain = await sha256File(src);
      const t = await copyTemp(out);
      tmp = t;
      await encryptFile(src, tmp, record.encryption.recipients, opts.signal);
      await fsyncFile(tmp);
      storedSum = await sha256File(tmp);
    } else {
      const c = await copyHashing(src, out);
      tmp = c.tmp;
      plain = { sha256: c.sha256, bytes: c.bytes };
      storedSum = plain;
    }
    if (f.sha256 !== undefined && plain.sha256 !== f.sha256) {
      rmSync(tmp, { force: true });
      fail(report, record, f, `the primary repository's file does not match its manifest (sha256 ${plain.sha256}, recorded ${f.sha256}); verify the backup with dbdrill verify ${target.name} --backup ${f.backup}`, log);
      continue;
    }
    commit(tmp, out);
    report.sent++;
    report.sentBytes += plain.bytes;
    const now = new Date().toISOString();
    record.files[f.rel] = { bytes: plain.bytes, sha256: plain.sha256, mtimeMs: f.mtimeMs, stored, storedBytes: storedSum.bytes, storedSha256: storedSum.sha256, copiedAt: now, ...(sealed ? { sealed: true as const } : {}) };
    delete record.failed[f.rel];
    const back = await readBack(out);
    if (!back || back.sha256 !== storedSum.sha256) {
      fail(report, record, f, `read back from the copy, it does not match what was written (sha256 ${back?.sha256 ?? 'missing'}, expected ${storedSum.sha256})`, log);
      continue;
    }
    record.files[f.rel]!.verifiedAt = new Date().toISOString();
    report.verified++;
    report.verifiedBy = 'read back';
    if (performance.now() - lastFlush > 2000) {
      // Record and index together: a run killed after this resumes from here, not from zero.
      writeRecord(target.repo, record);
      writeIndexLocal(dir, record);
      lastFlush = performance.now();
    }
  }
  writeIndexLocal(dir, record);
}

async function copyTemp(out: string): Promise<string> {
  mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
  return tempNameFor(out);
}

/** The copy's own index: the verified files only, so a copy alone says what it holds. */
function indexOf(record: CopyRecord): CopyRecord {
  const files = Object.fromEntries(Object.entries(record.files).filter(([rel, f]) => f.verifiedAt && record.failed[rel] === undefined));
  const { lastRun: _lastRun, ...rest } = record;
  return { ...rest, files, failed: {} };
}

function writeIndexLocal(dir: string, record: CopyRecord): void {
  writeFileAtomic(join(dir, INDEX_NAME), `${JSON.stringify(indexOf(record), null, 2)}\n`);
}

async function sendRclone(target: Target, r: RcloneSpec, record: CopyRecord, todo: SourceFile[], report: CopyReport, opts: CopyOptions, log: (l: string) => void): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dbdrill-copy-'));
  try {
    // The source side: the repository itself, or (encrypted) a staging directory of ciphertext.
    const stage = join(work, 'stage');
    const srcRoot = record.encryption ? stage : target.repo;
    const sending: { f: SourceFile; stored: string; sealed: boolean; plain: { sha256: string; bytes: number }; storedSum: { sha256: string; bytes: number } }[] = [];
    for (const f of todo) {
      if (opts.signal?.aborted) throw new DbdrillError('aborted', `The copy to ${record.copy} was cancelled; run it again to send the rest.`);
      const src = join(target.repo, f.rel);
      const plain = await sha256File(src);
      if (f.sha256 !== undefined && plain.sha256 !== f.sha256) {
        fail(report, record, f, `the primary repository's file does not match its manifest (sha256 ${plain.sha256}, recorded ${f.sha256}); verify the backup with dbdrill verify ${target.name} --backup ${f.backup}`, log);
        continue;
      }
      const { sealed, stored } = copyForm(src, f.rel, record.encryption !== undefined);
      let storedSum = plain;
      if (record.encryption) {
        const out = join(stage, stored);
        const tmp = await copyTemp(out);
        // The stage holds what goes: ciphertext made here, or the primary's own, as it is.
        if (sealed) copyFileSync(src, tmp);
        else await encryptFile(src, tmp, record.encryption.recipients, opts.signal);
        commit(tmp, out);
        storedSum = await sha256File(out);
        if (sealed && storedSum.sha256 !== plain.sha256) {
          fail(report, record, f, `changed while it was staged (sha256 ${storedSum.sha256}, read before as ${plain.sha256}); run the copy again`, log);
          continue;
        }
      }
      sending.push({ f, stored, sealed, plain, storedSum });
    }
    if (sending.length > 0) {
      const list = join(work, 'files');
      writeFileSync(list, sending.map((s) => s.stored).join('\n') + '\n');
      log(`rclone copy: ${sending.length} file(s) to ${remoteRoot(r)}`);
      await rclone(r, ['copy', '--files-from', list, '--no-traverse', srcRoot, remoteRoot(r)], { signal: opts.signal });
      const now = new Date().toISOString();
      for (const s of sending) {
        record.files[s.f.rel] = { bytes: s.plain.bytes, sha256: s.plain.sha256, mtimeMs: s.f.mtimeMs, stored: s.stored, storedBytes: s.storedSum.bytes, storedSha256: s.storedSum.sha256, copiedAt: now, ...(s.sealed ? { sealed: true as const } : {}) };
        delete record.failed[s.f.rel];
        report.sent++;
        report.sentBytes += s.plain.bytes;
      }
      writeRecord(target.repo, record);
      const { sums, how } = await remoteSha256(r, list, opts.signal);
      report.verifiedBy = how === 'remote' ? 'remote hash' : 'download';
      const at = new Date().toISOString();
      for (const s of sending) {
        const got = sums.get(s.stored);
        if (got !== s.storedSum.sha256) {
          fail(report, record, s.f, `on the copy its sha256 is ${got ?? 'missing'}, expected ${s.storedSum.sha256}`, log);
          continue;
        }
        record.files[s.f.rel]!.verifiedAt = at;
        report.verified++;
      }
    }
    await writeIndexRemote(r, record, opts.signal);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function writeIndexRemote(r: RcloneSpec, record: CopyRecord, signal?: AbortSignal): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dbdrill-copy-index-'));
  try {
    const idx = join(work, INDEX_NAME);
    writeFileSync(idx, `${JSON.stringify(indexOf(record), null, 2)}\n`, { mode: 0o600 });
    await rclone(r, ['copyto', idx, `${remoteRoot(r)}/${INDEX_NAME}`], { signal });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
