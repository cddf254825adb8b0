import { formatDuration } from '../config/duration.js';
import type { HealthThresholds } from '../config/health-settings.js';
import type { Engine } from '../config/target.js';
import { levelOf, type HealthCheck, type HealthStatus } from './status.js';

/** One catalog entry as health reads it (src/ops/catalog.ts's BackupEntry fits this shape). */
export interface BackupEntry {
  id: string;
  status: 'running' | 'complete' | 'failed' | 'interrupted' | 'corrupt' | 'expiring';
  startedAt: string;
  durationSeconds?: number;
  verified?: { at: string; ok: boolean; method: string };
  error?: string;
}

/** What health needs from the repository, gathered by the caller (pure function below). */
export interface BackupFacts {
  target: string;
  repo: string;
  /** Newest first, as readCatalog returns them. */
  backups: BackupEntry[];
  unreadable: { id: string; error: string }[];
  /** repo.json, when the repository exists. */
  repoInfo?: { engine: Engine; systemId?: string };
  engine: Engine;
  /** The server's identity; undefined when the server could not be reached. */
  serverSystemId?: string;
  /** Epoch ms. */
  now: number;
}

export interface BackupView {
  count: number;
  newestComplete: { id: string; finishedAt: string; ageSeconds: number } | null;
  newest: { id: string; status: BackupEntry['status']; error?: string } | null;
}

const finishedAt = (b: BackupEntry) => new Date(Date.parse(b.startedAt) + (b.durationSeconds ?? 0) * 1000).toISOString();

/**
 * barman-check style checks of the catalog: is there a backup to restore from at all, is it fresh
 * enough, did the last run fail, and does the repository belong to this server. Pure.
 */
export function deriveBackupChecks(f: BackupFacts, th: HealthThresholds): { view: BackupView; checks: HealthCheck[] } {
  const complete = f.backups.find((b) => b.status === 'complete');
  const newest = f.backups[0];
  const view: BackupView = {
    count: f.backups.length,
    newestComplete: complete
      ? { id: complete.id, finishedAt: finishedAt(complete), ageSeconds: Math.max(0, (f.now - Date.parse(finishedAt(complete))) / 1000) }
      : null,
    newest: newest ? { id: newest.id, status: newest.status, ...(newest.error ? { error: newest.error } : {}) } : null,
  };
  const checks: HealthCheck[] = [freshness(f, view, th), lastRun(f, complete, newest), repository(f)];
  if (complete?.verified && !complete.verified.ok) {
    checks.push({
      name: 'verification',
      status: 'WARN',
      reason: `The newest complete backup ${complete.id} failed its last verification (${complete.verified.method} at ${complete.verified.at}); run dbdrill verify ${f.target} to see why.`,
    });
  }
  return { view, checks };
}

function freshness(f: BackupFacts, v: BackupView, th: HealthThresholds): HealthCheck {
  const check = (status: HealthStatus, reason: string): HealthCheck => ({ name: 'backup', status, reason });
  if (!v.newestComplete) {
    const n = v.newest;
    const why = n ? ` (the newest, ${n.id}, is ${n.status}${n.error ? `: ${n.error}` : ''})` : '';
    return check('CRIT', `No complete backup in ${f.repo}${why}; take one with: dbdrill backup ${f.target}.`);
  }
  const { id, ageSeconds } = v.newestComplete;
  const status = levelOf(ageSeconds, th.backupWarnSeconds, th.backupCritSeconds);
  const limit = status === 'CRIT' ? th.backupCritSeconds : th.backupWarnSeconds;
  return check(
    status,
    status === 'OK'
      ? `The newest complete backup ${id} finished ${formatDuration(ageSeconds)} ago.`
      : `The newest complete backup ${id} finished ${formatDuration(ageSeconds)} ago, more than ${formatDuration(limit)}; check the backup schedule.`,
  );
}

function lastRun(f: BackupFacts, complete: BackupEntry | undefined, newest: BackupEntry | undefined): HealthCheck {
  const check = (status: HealthStatus, reason: string): HealthCheck => ({ name: 'last_backup', status, reason });
  if (!newest) return check('OK', 'No backup has run yet.');
  if (newest === complete) return check('OK', `The last backup, ${newest.id}, completed.`);
  if (newest.status === 'running') return check('OK', `Backup ${newest.id} is running (started ${newest.startedAt}).`);
  // A failed run is a warning, not critical: the previous complete backup still restores (and
  // when there is none, the "backup" check is already critical).
  const what = newest.status === 'interrupted' ? 'was interrupted' : newest.status === 'corrupt' ? 'is corrupt (it failed verification; it is not restored from)' : 'failed';
  return check('WARN', `The last backup, ${newest.id}, ${what}${newest.error ? `: ${newest.error}` : ''}.`);
}

function repository(f: BackupFacts): HealthCheck {
  const check = (status: HealthStatus, reason: string): HealthCheck => ({ name: 'repository', status, reason });
  const r = f.repoInfo;
  const broken = f.unreadable.find((u) => u.id === 'repository');
  if (broken) return check('CRIT', broken.error);
  if (!r) return check('OK', `No repository at ${f.repo} yet; the first backup creates it.`);
  if (r.engine !== f.engine) {
    return check('CRIT', `The repository ${f.repo} holds ${r.engine} backups but the target is ${f.engine}; give this target its own --repo.`);
  }
  if (r.systemId && f.serverSystemId && r.systemId !== f.serverSystemId) {
    return check(
      'CRIT',
      `The repository ${f.repo} holds backups of another server (system id ${r.systemId}, this one is ${f.serverSystemId}): they cannot restore it; give this server its own --repo.`,
    );
  }
  if (f.unreadable.length > 0) {
    return check('WARN', `${f.unreadable.length} manifest(s) in ${f.repo} cannot be read (${f.unreadable.map((u) => u.id).join(', ')}); those backups are not offered for restore.`);
  }
  const id = r.systemId ? (f.serverSystemId ? `system id ${r.systemId} matches the server` : `system id ${r.systemId} (server not reached, not compared)`) : 'no system id recorded';
  return check('OK', `Repository ${f.repo}: ${id}.`);
}
