import { DbdrillError } from '../../../errors.js';

/** One backup set as `pgbackrest info --output=json` lists it (2.45). */
export interface BackupSet {
  label: string;
  type: 'full' | 'diff' | 'incr';
  /** The set this one was taken against (diff: its full; incr: the newest set before it). */
  prior: string | null;
  /** Every set holding files this one needs, oldest first: what a restore of it reads. */
  reference: string[];
  /** Unix seconds (whole): start of the backup, and the database's clock right after backup stop. */
  timestamp: { start: number; stop: number };
  archive: { start?: string; stop?: string };
  lsn: { start?: string; stop?: string };
  /** size: the database as restored; delta: bytes copied by this set; repository: as stored (compressed). */
  info: { size: number; delta: number; repository: { size: number; delta: number } };
  database: { id: number };
  /** Page checksum errors were found in the database's files while copying them. */
  error: boolean;
  backrestVersion: string;
}

export interface StanzaDb {
  id: number;
  /** A 64-bit number: kept as text, JSON.parse would round it. */
  systemId: string;
  version: string;
}

/** The WAL archive of one database id: "15-1" (PostgreSQL 15, db id 1) and its oldest and newest segment. */
export interface ArchiveRange {
  id: string;
  databaseId: number;
  min?: string;
  max?: string;
}

export interface StanzaInfo {
  name: string;
  status: { code: number; message: string; backupLockHeld: boolean };
  cipher: string;
  db: StanzaDb[];
  archive: ArchiveRange[];
  backup: BackupSet[];
}

/** pgBackRest's status code 1: "missing stanza path" (no stanza-create yet). */
export const STATUS_MISSING_STANZA = 1;

/** Quotes every bare "system-id" number before parsing, so none loses digits. */
function quoteSystemIds(text: string): string {
  return text.replace(/("system-id"\s*:\s*)(\d+)/g, '$1"$2"');
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function parseInfo(text: string): StanzaInfo[] {
  let raw: unknown;
  try {
    raw = JSON.parse(quoteSystemIds(text));
  } catch (e) {
    throw new DbdrillError('tool-failed', `pgbackrest info printed something that is not JSON (${(e as Error).message}); is this pgBackRest 2.x?`);
  }
  if (!Array.isArray(raw)) throw new DbdrillError('tool-failed', 'pgbackrest info --output=json did not print a list of stanzas.');
  return raw.map((s) => parseStanza(obj(s)));
}

function parseStanza(s: Json): StanzaInfo {
  const status = obj(s.status);
  return {
    name: str(s.name) ?? '',
    status: { code: num(status.code), message: str(status.message) ?? '', backupLockHeld: obj(obj(status.lock).backup).held === true },
    cipher: str(s.cipher) ?? 'none',
    db: (Array.isArray(s.db) ? s.db : []).map((d) => {
      const o = obj(d);
      return { id: num(o.id), systemId: String(o['system-id'] ?? ''), version: String(o.version ?? '') };
    }),
    archive: (Array.isArray(s.archive) ? s.archive : []).map((a) => {
      const o = obj(a);
      return {
        id: str(o.id) ?? '',
        databaseId: num(obj(o.database).id),
        ...(str(o.min) ? { min: str(o.min) } : {}),
        ...(str(o.max) ? { max: str(o.max) } : {}),
      };
    }),
    backup: (Array.isArray(s.backup) ? s.backup : []).map((b) => parseSet(obj(b))),
  };
}

function parseSet(b: Json): BackupSet {
  const type = str(b.type);
  if (type !== 'full' && type !== 'diff' && type !== 'incr') throw new DbdrillError('tool-failed', `pgbackrest info lists backup ${String(b.label)} of unknown type "${String(type)}".`);
  const info = obj(b.info);
  const repo = obj(info.repository);
  const archive = obj(b.archive);
  const lsn = obj(b.lsn);
  const ts = obj(b.timestamp);
  return {
    label: str(b.label) ?? '',
    type,
    prior: str(b.prior) ?? null,
    reference: Array.isArray(b.reference) ? b.reference.filter((r): r is string => typeof r === 'string') : [],
    timestamp: { start: num(ts.start), stop: num(ts.stop) },
    archive: { ...(str(archive.start) ? { start: str(archive.start) } : {}), ...(str(archive.stop) ? { stop: str(archive.stop) } : {}) },
    lsn: { ...(str(lsn.start) ? { start: str(lsn.start) } : {}), ...(str(lsn.stop) ? { stop: str(lsn.stop) } : {}) },
    info: { size: num(info.size), delta: num(info.delta), repository: { size: num(repo.size), delta: num(repo.delta) } },
    database: { id: num(obj(b.database).id) },
    error: b.error === true,
    backrestVersion: str(obj(b.backrest).version) ?? '',
  };
}

/** The database the stanza serves now: the newest db entry (older ones precede a stanza-upgrade). */
export function currentDb(info: StanzaInfo): StanzaDb | undefined {
  return [...info.db].sort((a, b) => a.id - b.id).at(-1);
}

/** The archive id ("15-1") WAL of the current database goes to. */
export function currentArchiveId(info: StanzaInfo): string | undefined {
  const db = currentDb(info);
  return db ? `${db.version}-${db.id}` : undefined;
}
