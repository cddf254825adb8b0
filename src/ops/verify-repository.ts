import { TargetStore } from '../config/store.js';
import type { Target } from '../config/target.js';
import { archiveSegmentBytes, lastCommitTimes, verifyChainLinks, walRecordFaults } from '../engines/repository-checks.js';
import { DbdrillError, invalid } from '../errors.js';
import { parseHistory } from '../pitr/history.js';
import { readInventory } from '../pitr/inventory.js';
import { timelineHex } from '../pitr/wal-names.js';
import type { BackupStatus, Manifest } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { checkBinlogArchive, checkWalArchive } from '../verify/archive-check.js';
import { binlogArchiveLines, intactRuns, walBases, walArchiveLines } from '../verify/archive-lines.js';
import { planArchive, timeQuestions, type ArchiveRange, type ReplayOutcome } from '../verify/repository-plan.js';
import { walRoot } from '../wal/layout.js';
import { readArchivedFile } from '../wal/readable.js';
import { startJob, type Job, type JobContext } from './job.js';
import { runVerify, type VerifyReport } from './verify.js';
import type { MethodVerifyReport } from '../engines/contract.js';
import { engineEntry, engineFor } from '../engines/registry.js';

type CheckOutcome = VerifyReport['checks'][number];

/** One backup as whole-repository verify found it. */
export interface RepoBackupEntry {
  backup: string;
  kind: Manifest['kind'] | 'unknown';
  type: Manifest['type'] | 'unknown';
  /** ok: its files, the tool's reading and (chains) its links pass; failed: one of them does not; skipped: nothing to verify (a failed or running backup). */
  status: 'ok' | 'failed' | 'skipped';
  reason: string;
  statusBefore?: BackupStatus;
  statusAfter?: BackupStatus;
  checks: CheckOutcome[];
  /** How far it replays the archive (per timeline it follows), when it starts replays. */
  replay?: ReplayOutcome[];
}

export interface RepoArchiveReport {
  kind: 'wal' | 'binlog';
  /** Files read and checked, and their bytes (uncompressed). */
  files: number;
  bytes: number;
  /** One entry per range of the archive: intact, missing or damaged. */
  ranges: ArchiveRange[];
  /** Set when the archive could not be read at all. */
  error?: string;
}

export interface RepoVerifyReport {
  target: string;
  ok: boolean;
  backups: RepoBackupEntry[];
  archive?: RepoArchiveReport;
  /** The method's own repository (pgBackRest), verified by its tool plus dbdrill's reading of it. */
  method?: { name: string } & MethodVerifyReport;
  /** Every failure in one line each: what is broken and what it breaks. */
  problems: string[];
}

export function startVerifyRepository(configDir: string, name: string, signal?: AbortSignal, opts: { repo?: string } = {}): Job<RepoVerifyReport> {
  const stored = new TargetStore(configDir).get(name);
  // --from COPY: the copy, fetched (every file checked) into a temp repository, verified as the primary would be.
  const target = opts.repo ? { ...stored, repo: opts.repo } : stored;
  return startJob((ctx) => runVerifyRepository(ctx, target), signal);
}

const describe = (c: CheckOutcome) => `${c.method}: ${c.detail}`;

/**
 * Every complete (or corrupt) backup checked as `verify --backup ID` checks one — its files
 * against their sha256 (streamed), the tool's reading of it, a corrupt one marked so — then each
 * MariaDB chain's links, then every file of the WAL or binlog archive read as a restore reads it,
 * and each backup's replay from its start to the archive's end: a missing or damaged file is named
 * with the backups it stops and the part of the recoverable window it takes away.
 */
export async function runVerifyRepository(ctx: JobContext, target: Target): Promise<RepoVerifyReport> {
  const method = (await engineFor(target)).methodOf(target);
  if (!method.verifyRepository) return verifyDbdrillRepository(ctx, target);
  // A method with a repository of its own (pgBackRest) verifies it with its tool and dbdrill's
  // reading of it; backups dbdrill keeps itself (pg_dump's) are verified as always, when there are any.
  const own = await method.verifyRepository(ctx, target);
  const ownReport = { name: method.name, ...own };
  const hasOwn = new Repository(target.repo).catalog().manifests.some((m) => m.status === 'complete' || m.status === 'corrupt');
  if (!hasOwn) return { target: target.name, ok: own.ok, backups: [], method: ownReport, problems: own.findings };
  const rest = await verifyDbdrillRepository(ctx, target);
  return { ...rest, ok: rest.ok && own.ok, method: ownReport, problems: [...own.findings, ...rest.problems] };
}

async function verifyDbdrillRepository(ctx: JobContext, target: Target): Promise<RepoVerifyReport> {
  const repo = new Repository(target.repo);
  const { manifests, unreadable } = repo.catalog();
  const entries: RepoBackupEntry[] = [];
  const oldestFirst = [...manifests].sort((a, b) => a.id.localeCompare(b.id));
  const toVerify = oldestFirst.filter((m) => m.status === 'complete' || m.status === 'corrupt');
  // Nothing restores from a repository without a backup: saying it verified would mislead.
  if (toVerify.length === 0 && unreadable.length === 0) throw invalid(`Target "${target.name}" has no complete backup yet; take one with dbdrill backup ${target.name}.`);
  let k = 0;
  for (const m of oldestFirst) {
    const base = { backup: m.id, kind: m.kind, type: m.type, statusBefore: m.status };
    if (m.status !== 'complete' && m.status !== 'corrupt') {
      entries.push({ ...base, status: 'skipped', reason: `it is ${m.status}${m.error ? ` (${m.error})` : ''}: nothing restores from it`, statusAfter: m.status, checks: [] });
      continue;
    }
    k++;
    ctx.emit({ type: 'log', level: 'info', text: `backup ${m.id} (${k} of ${toVerify.length})` });
    ctx.emit({ type: 'progress', phase: `backups ${k - 1} of ${toVerify.length} verified`, done: k - 1, total: toVerify.length });
    try {
      const r = await runVerify(ctx, target, { backup: m.id });
      const failed = r.checks.filter((c) => !c.ok);
      entries.push({
        ...base,
        status: r.ok ? 'ok' : 'failed',
        reason: r.ok ? r.checks.map(describe).join('; ') : failed.map(describe).join('; ') + (r.status === 'corrupt' ? ' (marked corrupt)' : ''),
        ...(r.status ? { statusAfter: r.status } : {}),
        checks: r.checks,
      });
    } catch (e) {
      if (e instanceof DbdrillError && e.code === 'aborted') throw e;
      if (!(e instanceof DbdrillError)) throw e;
      entries.push({ ...base, status: 'failed', reason: e.message, checks: [{ method: 'verify', ok: false, detail: e.message }] });
    }
  }
  for (const u of unreadable) entries.push({ backup: u.id, kind: 'unknown', type: 'unknown', status: 'failed', reason: `its manifest cannot be read: ${u.error}`, checks: [] });

  // Chain links, once every member's own verdict (corrupt or not) is recorded.
  const after = repo.catalog().manifests;
  for (const e of entries) {
    const m = after.find((x) => x.id === e.backup);
    if (!m || !engineEntry(m.engine).ownChains || m.kind !== 'physical' || m.type === 'full' || e.status === 'skipped') continue;
    const links = verifyChainLinks(repo.root, after, m.id);
    e.checks.push(links);
    if (!links.ok) {
      e.reason = e.status === 'failed' ? `${e.reason}; ${describe(links)}` : describe(links);
      e.status = 'failed';
    } else if (e.status === 'ok') e.reason = `${e.reason}; ${describe(links)}`;
  }
  ctx.emit({ type: 'progress', phase: `backups ${toVerify.length} of ${toVerify.length} verified`, done: toVerify.length, total: toVerify.length });

  const wal = engineEntry(target.engine).archive === 'wal';
  const archive = await ctx.step(
    wal ? 'WAL archive' : 'binlog archive',
    () => (wal ? verifyWalArchive(ctx, repo, after) : verifyBinlogArchive(ctx, target, after)),
    (a) => ({ ok: !a.error && a.ranges.every((r) => r.ok), detail: archiveSummary(a) }),
  );
  for (const e of entries) {
    const replay = archive.replays.filter((r) => r.backup === e.backup);
    if (replay.length > 0) e.replay = replay;
  }
  const { replays: _replays, ...archiveReport } = archive;

  const problems = [
    ...entries.filter((e) => e.status === 'failed').map((e) => `backup ${e.backup}: ${e.reason}`),
    ...(archive.error ? [`${archive.kind === 'wal' ? 'WAL' : 'binlog'} archive: ${archive.error}`] : []),
    ...archive.ranges.filter((r) => !r.ok).map((r) => `${r.line}: ${r.reason}`),
    // A replay stopped by a file no range shows (a timeline the archive holds nothing of).
    ...archive.replays.filter((r) => !r.ok && !archive.ranges.some((g) => !g.ok && g.breaks.includes(r.backup))).map((r) => `backup ${r.backup}: ${r.reason}`),
  ];
  const ok = problems.length === 0;
  return { target: target.name, ok, backups: entries, archive: archiveReport, problems };
}

type ArchiveResult = RepoArchiveReport & { replays: ReplayOutcome[] };

function archiveSummary(a: RepoArchiveReport): string {
  if (a.error) return a.error;
  const bad = a.ranges.filter((r) => !r.ok);
  const word = a.kind === 'wal' ? 'segment' : 'binlog';
  return bad.length === 0 ? `${a.files} ${word}(s) read, intact and continuous` : `${bad.length} broken range(s): ${bad.map((r) => (r.count === 1 ? r.first : `${r.first} … ${r.last}`)).join(', ')}`;
}

function progressOf(ctx: JobContext, phase: string) {
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (now - last < 500 && done !== total) return;
    last = now;
    ctx.emit({ type: 'progress', phase, done, total, unit: 'segments' });
  };
}

async function verifyWalArchive(ctx: JobContext, repo: Repository, manifests: Manifest[]): Promise<ArchiveResult> {
  let segmentBytes: number;
  try {
    segmentBytes = archiveSegmentBytes(repo, manifests);
  } catch (e) {
    if (!(e instanceof DbdrillError)) throw e;
    return { kind: 'wal', files: 0, bytes: 0, ranges: [], replays: [], error: e.message };
  }
  const inv = readInventory(walRoot(repo.root), segmentBytes);
  const check = await checkWalArchive(repo.root, inv, segmentBytes, progressOf(ctx, 'WAL segments read'), ctx.signal);
  const newest = walBases(manifests).at(-1);
  const major = newest ? Number(newest.serverVersion.split('.')[0]) : 15;
  // Then every record of the intact copies: damage from before the push passes the archive's checksums.
  const runs = intactRuns(inv.timelines, check.damaged);
  const total = runs.reduce((n, r) => n + r.segNos.length, 0);
  const recordProgress = progressOf(ctx, 'WAL records read');
  let before = 0;
  for (const run of runs) {
    const faults = await walRecordFaults(repo.root, run.timeline, run.segNos, segmentBytes, major, (done) => recordProgress(before + done, total), ctx.signal);
    check.damaged.push(...faults.map((f) => ({ timeline: run.timeline, ...f })));
    before += run.segNos.length;
  }
  const histories = new Map<number, ReturnType<typeof parseHistory> | undefined>();
  const history = (tl: number) => {
    if (check.damagedHistories.has(tl)) return undefined;
    if (!histories.has(tl)) {
      const data = readArchivedFile(repo.root, `${timelineHex(tl)}.history`);
      histories.set(tl, data ? parseHistory(data.toString('utf8')) : undefined);
    }
    return histories.get(tl);
  };
  const { lines, replays } = walArchiveLines(inv, check.damaged, manifests, { segmentBytes, history });
  const times = await lastCommitTimes(repo.root, timeQuestions(lines), segmentBytes, major);
  const plan = planArchive(lines, replays, (key) => times.get(key), 'segment');
  const historyRanges: ArchiveRange[] = [...check.damagedHistories].map(([tl, reason]) => {
    const name = `${timelineHex(tl)}.history`;
    return {
      line: `timeline ${tl}`,
      timeline: tl,
      first: name,
      last: name,
      count: 1,
      status: 'damaged',
      ok: false,
      reason: `history file ${name} is damaged: ${reason}; no restore can follow timeline ${tl}`,
      breaks: [],
    };
  });
  return { kind: 'wal', files: check.segments, bytes: check.bytes, ranges: [...plan.ranges, ...historyRanges], replays: plan.replays };
}

async function verifyBinlogArchive(ctx: JobContext, target: Target, manifests: Manifest[]): Promise<ArchiveResult> {
  let check: Awaited<ReturnType<typeof checkBinlogArchive>>;
  try {
    check = await checkBinlogArchive(target.repo, progressOf(ctx, 'binlogs read'), ctx.signal);
  } catch (e) {
    if (!(e instanceof DbdrillError) || e.code === 'aborted') throw e;
    return { kind: 'binlog', files: 0, bytes: 0, ranges: [], replays: [], error: e.message };
  }
  const { lines, replays } = binlogArchiveLines(check.files, check.gone, manifests);
  const at = new Map(check.files.filter((f) => f.problem === undefined).map((f) => [f.file, f.lastChangeAt ?? f.lastEventAt]));
  const plan = planArchive(lines, replays, (key) => at.get(key), 'binlog');
  return { kind: 'binlog', files: check.files.length, bytes: check.bytes, ranges: plan.ranges, replays: plan.replays };
}
