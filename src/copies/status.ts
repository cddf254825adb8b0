import { parseDest } from '../config/copies.js';
import type { Target } from '../config/target.js';
import type { Manifest } from '../repo/manifest.js';
import { readRecord, type CopyRecord } from './record.js';

export type HeldState = 'ok' | 'missing' | 'partial' | 'failed';

/** Where one backup is held: the primary ("local") and each copy. */
export interface Held {
  where: string;
  state: HeldState;
  verifiedAt?: string;
}

/** Pure: a backup's state on one copy, from that copy's record. */
export function heldOn(m: Manifest, record: CopyRecord | undefined): Omit<Held, 'where'> {
  if (!record) return { state: 'missing' };
  const rels = [...m.files.map((f) => `backups/${m.id}/${f.path}`), `backups/${m.id}/manifest.json`];
  if (rels.some((r) => record.failed[r] !== undefined)) return { state: 'failed' };
  const held = rels.filter((r) => record.files[r]?.verifiedAt);
  if (held.length === 0) return { state: 'missing' };
  if (held.length < rels.length) return { state: 'partial' };
  const times = held.map((r) => record.files[r]!.verifiedAt!).sort();
  return { state: 'ok', verifiedAt: times[0]! };
}

/** Per backup: the primary and every copy of the target. */
export function heldBy(target: Target, manifests: Manifest[]): Map<string, Held[]> {
  const records = new Map((target.copies ?? []).map((c) => [c.name, readRecordQuietly(target.repo, c.name)]));
  const out = new Map<string, Held[]>();
  for (const m of manifests) {
    const list: Held[] = [{ where: 'local', state: m.status === 'complete' ? 'ok' : 'failed' }];
    for (const c of target.copies ?? []) list.push({ where: c.name, ...heldOn(m, records.get(c.name)) });
    out.set(m.id, list);
  }
  return out;
}

function readRecordQuietly(repo: string, copy: string): CopyRecord | undefined {
  try {
    return readRecord(repo, copy);
  } catch {
    return undefined;
  }
}

/** `local ✓ nas ✓ offsite missing` */
export function heldText(list: Held[]): string {
  return list.map((h) => `${h.where} ${h.state === 'ok' ? '✓' : h.state}`).join(' ');
}

export interface Rule321 {
  /** Copies of the data counting the primary (3-2-1 asks for 3). */
  copies: number;
  /** Distinct kinds of storage (local directories count as one, each rclone remote type as its own). */
  media: number;
  offsite: boolean;
  /** Copies holding the newest complete backup, verified. */
  newestHeldBy: string[];
  ok: boolean;
  text: string;
}

/**
 * 3-2-1 from the config and the records: three copies of the newest backup (the primary counts),
 * on two kinds of storage, one of them off-site. A local directory on another mount is a second
 * medium only if it is not on the primary's device (told by the caller via `sameDevice`).
 */
export function rule321(target: Target, newest: Manifest | undefined, sameDevice: (dir: string) => boolean | undefined): Rule321 {
  const copies = target.copies ?? [];
  const records = new Map(copies.map((c) => [c.name, readRecordQuietly(target.repo, c.name)]));
  const newestHeldBy = newest ? ['local', ...copies.filter((c) => heldOn(newest, records.get(c.name)).state === 'ok').map((c) => c.name)] : [];
  const kinds = new Set<string>(['local-disk']);
  for (const c of copies) {
    const d = parseDest(c.dest);
    if (!d) continue;
    if (d.kind === 'rclone') kinds.add(`rclone:${d.remote}`);
    else if (sameDevice(d.dir) === false) kinds.add(`disk:${d.dir}`);
  }
  const offsite = copies.some((c) => c.offsite === true && newestHeldBy.includes(c.name));
  const n = newestHeldBy.length;
  const ok = n >= 3 && kinds.size >= 2 && offsite;
  const text = newest
    ? `${ok ? 'OK  ' : 'WARN'} 3-2-1: newest backup ${newest.id} held ${n}x (${newestHeldBy.join(', ')}), ${kinds.size} kind(s) of storage, ${offsite ? 'one off-site' : 'none off-site'}`
    : `WARN 3-2-1: no complete backup yet; ${copies.length} cop${copies.length === 1 ? 'y' : 'ies'} configured`;
  return { copies: n, media: kinds.size, offsite, newestHeldBy, ok, text };
}
