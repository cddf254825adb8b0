import { existsSync } from 'node:fs';
import type { Target } from '../../../config/target.js';
import { DbdrillError, invalid, isDbdrillError } from '../../../errors.js';
import type { EngineContext } from '../../context.js';
import type { ArchivingPlan, ArchivingRequest, CatalogRow, EngineBackupRequest, MethodSetup, MethodVerifyReport } from '../../contract.js';
import type { ProbeResult } from '../../probe-types.js';
import { connectPostgres } from '../client.js';
import { archivePushCommand } from './archive.js';
import { pgbackrestBackup } from './backup.js';
import { catalogRows, type PgbackrestBackupRow } from './catalog.js';
import type { Pgbackrest } from './command.js';
import type { StanzaInfo } from './info.js';
import { pgbackrestLayout } from './layout.js';
import { openPgbackrest, preparePgbackrest } from './setup.js';
import { readStanzaInfo, stanzaCheck, stanzaCreate } from './stanza.js';
import { pgbackrestVerify } from './verify.js';
import { pgbackrestExpire, type Retention as ExpireRetention } from './expire.js';
import type { Retention as PolicyRetention } from '../../../config/policy.js';

/**
 * The pgbackrest row of PostgreSQL's methods table, as dbdrill's commands reach it: target
 * add/edit set the target up (conf, stanza-create, check when archiving already goes there),
 * backups and the catalog are pgBackRest's own, verify is pgBackRest's plus dbdrill's listing.
 */

/** pgBackRest for a target set up earlier; one sentence naming the command that sets it up otherwise. */
export async function pgbackrestOf(target: Target): Promise<Pgbackrest> {
  if (!existsSync(pgbackrestLayout(target.repo).confFile)) {
    throw invalid(`Target "${target.name}" uses pgBackRest but has no generated configuration in ${target.repo} yet; set it up with: dbdrill target edit ${target.name} --method pgbackrest`);
  }
  return openPgbackrest(target);
}

/**
 * Writes the conf and creates the stanza; runs `check` when the server already archives into it
 * (otherwise `archiving enable` is the next step and runs check itself).
 */
export async function setUpPgbackrest(ctx: EngineContext, target: Target): Promise<MethodSetup> {
  const prepared = await ctx.step('write pgbackrest.conf', () => preparePgbackrest(target, { processMax: target.processMax, checkpoint: target.checkpoint }));
  await stanzaCreate(ctx, prepared.pb, prepared.server.systemId);
  const notes = [`stanza "${target.name}" is ready in ${prepared.pb.layout.repoPath} (system id ${prepared.server.systemId})`];
  if ((await currentArchiveCommand(target)) === archivePushCommand(prepared.pb)) {
    await stanzaCheck(ctx, prepared.pb);
    notes.push('pgbackrest check passed: archive_command pushes WAL into the stanza');
  } else {
    notes.push(`archive_command does not push to pgBackRest yet; next: dbdrill archiving enable ${target.name} --apply`);
  }
  return { files: [{ path: prepared.pb.layout.confFile, text: prepared.conf }], notes };
}

async function currentArchiveCommand(target: Target): Promise<string> {
  const client = await connectPostgres(target);
  try {
    return (await client.query<{ c: string }>(`SELECT current_setting('archive_command') AS c`)).rows[0]!.c;
  } finally {
    await client.end().catch(() => {});
  }
}

/** One pgBackRest backup set, returned as its catalog row (the manifest of a pgBackRest backup). */
/** What a backup needs before pgBackRest runs, started while dbdrill connects to the server. */
export interface PgbackrestTakeStart {
  pb: Pgbackrest;
  before: Promise<StanzaInfo | undefined>;
}

export async function preparePgbackrestTake(target: Target): Promise<PgbackrestTakeStart> {
  const pb = await pgbackrestOf(target);
  const before = readStanzaInfo(pb);
  before.catch(() => undefined);
  return { pb, before };
}

export async function takePgbackrestBackup(ctx: EngineContext, target: Target, probe: Promise<ProbeResult>, req: EngineBackupRequest, prepared?: Promise<PgbackrestTakeStart>): Promise<CatalogRow> {
  const start = prepared ? await prepared : undefined;
  const pb = start?.pb ?? (await pgbackrestOf(target));
  const out = await pgbackrestBackup(ctx, pb, target.name, { type: req.type, ...(req.checkpoint ? { checkpoint: req.checkpoint } : {}), ...(req.jobs !== undefined ? { processMax: req.jobs } : {}), server: probe, ...(start ? { before: start.before } : {}) });
  return asCatalogRow(out.row);
}

function asCatalogRow(r: PgbackrestBackupRow): CatalogRow {
  return { ...r, sizes: { delta: r.pgbackrest.delta, repoSize: r.pgbackrest.repoSize, repoDelta: r.pgbackrest.repoDelta } };
}

export async function listPgbackrestBackups(target: Target, signal?: AbortSignal): Promise<CatalogRow[]> {
  const pb = await pgbackrestOf(target);
  const info = await readStanzaInfo(pb, signal);
  return info ? catalogRows(info, target.name).map(asCatalogRow) : [];
}

export async function verifyPgbackrest(ctx: EngineContext, target: Target): Promise<MethodVerifyReport> {
  const pb = await pgbackrestOf(target);
  const r = await pgbackrestVerify(ctx, pb, target.name);
  const archived = r.report.archives.reduce((n, a) => n + a.checked, 0);
  return { ok: r.verdict.ok, findings: r.verdict.findings, checked: { backups: r.rows.length, archived } };
}

/**
 * archive_command = pgBackRest's async archive-push for this target; with apply, runs check once
 * the server took it (a reload; archive_mode/wal_level still need a restart, and check waits).
 */
export async function enablePgbackrestArchiving(target: Target, req: ArchivingRequest, plan: (command: string) => Promise<ArchivingPlan>): Promise<ArchivingPlan> {
  if (req.compress !== undefined || req.batch !== undefined) {
    throw invalid(`--compress and --batch are wal-push's; target "${target.name}" archives with pgBackRest, which compresses with zst and pushes asynchronously (process-max) by itself, so drop them.`);
  }
  const pb = await pgbackrestOf(target);
  const out = { ...(await plan(archivePushCommand(pb))), tool: "pgBackRest's archive-push" };
  if (out.applied && !out.restartNeeded && out.pendingRestart.length === 0) {
    try {
      await stanzaCheck(quietContext(), pb);
      out.notes = ['pgbackrest check passed: WAL reaches the stanza'];
    } catch (e) {
      if (!isDbdrillError(e)) throw e;
      throw new DbdrillError(e.code, `archive_command is set, but ${e.message.replace(/\.$/, '')}.`, e.detail);
    }
  }
  return out;
}

/** A context for a step run outside a job (archiving enable is not a job): no events, no cancel. */
function quietContext(): EngineContext {
  return { emit: () => {}, signal: new AbortController().signal, step: (_name, fn) => fn() };
}

/**
 * The policy's retention as pgBackRest's expire options: --keep-full N is repo1-retention-full,
 * --keep-diff N repo1-retention-diff, and --keep-days D (with no count) a time-based full
 * retention. pgBackRest keeps a set's diffs and incrs with it and the WAL its sets need, so a
 * prune never breaks one of its chains. Rules pgBackRest cannot express are named, not guessed.
 */
export function expireRetentionOf(r: PolicyRetention): { retention: ExpireRetention & { fullDays?: number }; unsupported: string[] } {
  const unsupported: string[] = [];
  const retention: ExpireRetention & { fullDays?: number } = {};
  if (r.keepFull !== undefined) retention.full = r.keepFull;
  else if (r.keepDays !== undefined) retention.fullDays = r.keepDays;
  if (r.keepDiff !== undefined) retention.diff = r.keepDiff;
  if (r.keepFull !== undefined && r.keepDays !== undefined) unsupported.push(`--keep-days ${r.keepDays} beside --keep-full is not applied to pgBackRest sets (its expire keeps by count or by days, not both); --keep-full ${r.keepFull} is`);
  if (r.gfs !== undefined) unsupported.push(`--gfs ${r.gfs} is not applied to pgBackRest sets (its expire has no grandfather-father-son rule)`);
  if (r.keepArchive !== undefined) unsupported.push(`--keep-archive ${r.keepArchive} is not applied to pgBackRest's archive (its expire keeps the WAL its kept sets need)`);
  return { retention, unsupported };
}

export async function expirePgbackrest(ctx: EngineContext, target: Target, r: PolicyRetention, dryRun: boolean): Promise<{ unsupported: string[]; sets: string[] }> {
  const { retention, unsupported } = expireRetentionOf(r);
  if (retention.full === undefined && retention.fullDays === undefined && retention.diff === undefined) return { unsupported, sets: [] };
  const pb = await pgbackrestOf(target);
  const { fullDays, ...counts } = retention;
  const extra = fullDays !== undefined ? ['--repo1-retention-full-type=time', `--repo1-retention-full=${fullDays}`] : [];
  const sets = await pgbackrestExpire(ctx, pb, counts, [...extra, ...(dryRun ? ['--dry-run'] : [])]);
  return { unsupported, sets };
}
