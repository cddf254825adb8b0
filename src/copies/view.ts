import { statSync } from 'node:fs';
import type { Target } from '../config/target.js';
import { Repository } from '../repo/repository.js';
import { readRecord } from './record.js';
import { heldBy, rule321, type Held, type Rule321 } from './status.js';

export interface CopiesView {
  copies: { name: string; dest: string; offsite: boolean; rcloneConfig?: string; lastRun?: { at: string; sent: number; verified: number; failed: number } }[];
  encryptTo: string[];
  rule321: Rule321;
}

/** What `target show` adds about copies: each copy with its last run, encryption, and 3-2-1. */
export function copiesView(target: Target): CopiesView {
  let newest;
  try {
    newest = new Repository(target.repo).catalog().manifests.find((m) => m.status === 'complete');
  } catch {
    newest = undefined;
  }
  const repoDev = devOf(target.repo);
  const copies = (target.copies ?? []).map((c) => {
    let lastRun;
    try {
      lastRun = readRecord(target.repo, c.name)?.lastRun;
    } catch {
      lastRun = undefined;
    }
    return { name: c.name, dest: c.dest, offsite: c.offsite === true, ...(c.rcloneConfig ? { rcloneConfig: c.rcloneConfig } : {}), ...(lastRun ? { lastRun } : {}) };
  });
  const rule = rule321(target, newest, (dir) => {
    const d = devOf(dir);
    return d === undefined || repoDev === undefined ? undefined : d === repoDev;
  });
  return { copies, encryptTo: target.encryptTo ?? [], rule321: rule };
}

function devOf(path: string): number | undefined {
  try {
    return statSync(path).dev;
  } catch {
    return undefined;
  }
}

export function copiesText(v: CopiesView): string {
  const lines = v.copies.map(
    (c) =>
      `${'copy'.padEnd(11)}${c.name} → ${c.dest}${c.offsite ? ' (off-site)' : ''}${c.lastRun ? `; last run ${c.lastRun.at.replace(/\.\d+Z$/, 'Z')}: ${c.lastRun.sent} sent, ${c.lastRun.verified} verified, ${c.lastRun.failed} failed` : '; never run'}`,
  );
  if (v.encryptTo.length) lines.push(`${'encrypt'.padEnd(11)}copies with age to ${v.encryptTo.join(', ')}`);
  lines.push(`${'3-2-1'.padEnd(11)}${v.rule321.text}`);
  return lines.join('\n');
}

/** Per backup id, where it is held (for the catalog); empty when the target has no copies. */
export function heldForCatalog(target: Target): Map<string, Held[]> {
  if (!target.copies?.length) return new Map();
  return heldBy(target, new Repository(target.repo).catalog().manifests);
}
