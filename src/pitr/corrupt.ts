import { corruptReason, type Manifest } from '../repo/manifest.js';
import { parseLsn } from './wal-names.js';
import type { RestoreTarget } from './time.js';

/** "backup X is corrupt (verify at T: …)", or "backups X (…) and Y (…) are corrupt". */
export function corruptWords(ms: Manifest[]): string {
  if (ms.length === 1) return `backup ${ms[0]!.id} is corrupt (${corruptReason(ms[0]!)})`;
  return `backups ${ms.map((m) => `${m.id} (${corruptReason(m)})`).join(' and ')} are corrupt`;
}

/** "; backup X, which would have served it, is corrupt (…)" for a refusal, or nothing. */
export function corruptClause(ms: Manifest[]): string {
  if (ms.length === 0) return '';
  const one = ms.length === 1;
  return `; ${one ? `backup ${ms[0]!.id}, which would have served it, is` : `backups ${ms.map((m) => m.id).join(' and ')}, which would have served it, are`} corrupt (${ms.map(corruptReason).join('; ')})`;
}

/** The plan note when corrupt backups were passed over: "backup X is corrupt (…); starting from Y instead". */
export function skippedNote(skipped: Manifest[], chosen: Manifest): string[] {
  return skipped.length ? [`${corruptWords(skipped)}; starting from ${chosen.id} instead`] : [];
}

/**
 * Corrupt PostgreSQL base backups the planner's rule would have preferred to `chosen` for this
 * target: newer ones whose consistent point (or end, for an LSN) lies before the target, or for
 * an xid or restore point (where the oldest backup is taken) older ones.
 */
export function passedOver(corrupt: Manifest[], chosen: Manifest, target: RestoreTarget): Manifest[] {
  return corrupt.filter((c) => {
    const pgm = c.postgres!;
    switch (target.kind) {
      case 'time':
        return c.id > chosen.id && new Date(pgm.consistentAt!) <= target.at;
      case 'lsn':
        return c.id > chosen.id && parseLsn(pgm.stopLsn ?? pgm.startLsn!) <= parseLsn(target.lsn);
      case 'xid':
      case 'name':
        return c.id < chosen.id;
      default:
        return c.id > chosen.id;
    }
  });
}
