import type { Rule321 } from '../copies/status.js';
import type { DiskView } from './local-disk.js';
import type { HealthCheck } from './status.js';

/** Whether the repository shares a filesystem with the server's data, as far as this host can tell. */
export type SharedDisk = { shared: boolean; serverPath: string } | { unknown: string };

/**
 * 3-2-1 as health sees it, for a target with copies: three copies of the newest backup (the
 * repository counts), two kinds of storage, one off-site. A repository on the server's own
 * filesystem is one disk failure away from losing the database and its backups together: CRIT
 * while no copy elsewhere holds the newest backup, WARN once one does (the copy is the backup
 * then, and the operator knows the repository is only a fast first tier).
 */
export function copiesCheck(rule: Rule321, disk: SharedDisk, repo: string): HealthCheck {
  const same = 'shared' in disk && disk.shared;
  const elsewhere = rule.newestHeldBy.filter((w) => w !== 'local');
  const facts = rule.text.replace(/^(OK|WARN) +3-2-1: /, '');
  const diskText = 'unknown' in disk ? `; whether the repository shares the server's disk cannot be told (${disk.unknown})` : '';
  if (same && elsewhere.length === 0) {
    return {
      name: '3-2-1',
      status: 'CRIT',
      reason: `the repository ${repo} is on the same filesystem as the server's data (${disk.serverPath}) and no copy holds the newest backup: one disk failure loses the database and every backup; copy it now (${facts}).`,
    };
  }
  if (same) {
    return {
      name: '3-2-1',
      status: 'WARN',
      reason: `the repository ${repo} is on the same filesystem as the server's data (${disk.serverPath}); only the copies ${elsewhere.join(', ')} survive that disk (${facts}).`,
    };
  }
  if (!rule.ok) {
    const missing = [rule.copies < 3 ? `${rule.copies} of 3 copies` : '', rule.media < 2 ? 'one kind of storage' : '', rule.offsite ? '' : 'none off-site'].filter(Boolean).join(', ');
    return { name: '3-2-1', status: 'WARN', reason: `3-2-1 not met (${missing}): ${facts}${diskText}.` };
  }
  return { name: '3-2-1', status: 'OK', reason: `${facts}${diskText}.` };
}

/** The server's directory (data directory; pg_wal's parent or the binlog directory) from its disk view. */
export function sharedDiskOf(serverDisk: DiskView | null | undefined, serverPath: (p: string) => string, repoDevice: number | undefined, deviceOf: (p: string) => number | undefined): SharedDisk {
  if (!serverDisk) return { unknown: 'the server was not sampled' };
  if ('unknown' in serverDisk) return { unknown: serverDisk.unknown };
  const path = serverPath(serverDisk.path);
  const dev = deviceOf(path);
  if (dev === undefined || repoDevice === undefined) return { unknown: `${repoDevice === undefined ? 'the repository' : path} cannot be read here` };
  return { shared: dev === repoDevice, serverPath: path };
}
