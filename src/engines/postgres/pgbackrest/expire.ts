import { invalid } from '../../../errors.js';
import type { EngineContext } from '../../context.js';
import { forwardToolEvents } from '../../tool-events.js';
import { runPgbackrest, type Pgbackrest } from './command.js';

/**
 * What to keep, as dbdrill's retention policy will hand it down. pgBackRest's expire removes
 * what falls outside and the WAL only those sets needed; it never breaks a chain (a diff or incr
 * goes with its full).
 */
export interface Retention {
  /** Full sets to keep (each with its diffs and incrs). */
  full?: number;
  /** Differential sets to keep (each with its incrs). */
  diff?: number;
  /** Keep WAL for PITR only from the newest N sets of archiveType; older sets stay restorable to their own end point. */
  archive?: number;
  archiveType?: 'full' | 'diff' | 'incr';
  /** Expire this one set (and what depends on it) now, whatever the counts say. */
  set?: string;
}

export function expireArgs(r: Retention): string[] {
  const count = (name: string, v: number | undefined): string[] => {
    if (v === undefined) return [];
    if (!Number.isInteger(v) || v < 1 || v > 9999999) throw invalid(`Retention ${name} ${v} is out of range; keep at least 1 (at most 9999999).`);
    return [`--repo1-retention-${name}=${v}`];
  };
  const args = [...count('full', r.full), ...count('diff', r.diff), ...count('archive', r.archive)];
  if (r.archiveType) args.push(`--repo1-retention-archive-type=${r.archiveType}`);
  if (r.set) args.push(`--set=${r.set}`);
  if (args.length === 0) throw invalid('An expire needs a retention (full, diff or archive count) or a set to expire.');
  return args;
}

/** Runs pgbackrest expire with the given retention (command-line options win over the conf's). */
export async function pgbackrestExpire(ctx: EngineContext, pb: Pgbackrest, r: Retention, extra: string[] = []): Promise<string[]> {
  // A time-based retention comes in `extra` (--repo1-retention-full-type=time), counts in `r`.
  const args = extra.some((a) => a.startsWith('--repo1-retention-full=')) ? expireArgsOrNone(r) : expireArgs(r);
  const lines: string[] = [];
  await ctx.step('expire', () =>
    runPgbackrest(pb, 'expire', ['--log-level-console=info', ...args, ...extra], { signal: ctx.signal, onEvent: forwardToolEvents(ctx, (e) => e.type === 'line' && lines.push(e.text)) }),
  );
  return expiredSets(lines);
}

/**
 * The sets an expire removed (or, with --dry-run, would remove), from its info lines:
 * "expire full backup set 20261207-101010F, 20261207-101111F_20261207-101212D" (with a
 * "[DRY-RUN] " prefix on a dry run) — a full is listed with the diffs and incrs that go with it.
 */
export function expiredSets(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const m = /expire (?:full|diff|incr|differential|incremental) backup(?: set)?:? (.+)$/i.exec(l) ?? /remove expired backup (\S+)$/.exec(l);
    if (!m) continue;
    for (const id of m[1]!.split(/,\s*/)) if (/^\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?$/.test(id.trim())) out.push(id.trim());
  }
  return [...new Set(out)];
}

function expireArgsOrNone(r: Retention): string[] {
  return Object.values(r).some((v) => v !== undefined) ? expireArgs(r) : [];
}
