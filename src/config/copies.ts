import { isAbsolute, normalize, relative } from 'node:path';
import { invalid } from '../errors.js';

/**
 * A copy of a target's repository on other media (issue 17): another directory (a second disk, a
 * mount) or an rclone remote (`remote:path`, SFTP, S3, …). Stored with the target in the config
 * file; the private half of any key never is.
 */
export interface CopySpec {
  name: string;
  /** An absolute directory, or an rclone remote `remote:path`. */
  dest: string;
  /** Off-site: another building or provider (the "1" of 3-2-1). */
  offsite?: boolean;
  /** The rclone config file for a remote dest (a path: passed to rclone with --config). */
  rcloneConfig?: string;
  /**
   * The copy's own retention: it keeps its N newest full backups even after prune removed them
   * from the primary (with the archive they need); without it, a copy drops what prune removed.
   */
  keepFull?: number;
}

/** An age public key: age1 followed by bech32 data (58 characters for X25519). */
export const AGE_RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;

const COPY_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/i;
/** rclone remote names: letters, digits, _ - . and space inside (we refuse space: argv clarity). */
const REMOTE_RE = /^([A-Za-z0-9_][A-Za-z0-9_.-]{0,63}):(.*)$/;

export type CopyDest = { kind: 'local'; dir: string } | { kind: 'rclone'; remote: string; path: string };

/** What a DEST is: an absolute directory or `remote:path`; undefined when it is neither. */
export function parseDest(dest: string): CopyDest | undefined {
  if (isAbsolute(dest)) return { kind: 'local', dir: normalize(dest).replace(/(.)\/$/, '$1') };
  const m = REMOTE_RE.exec(dest);
  if (!m) return undefined;
  return { kind: 'rclone', remote: m[1]!, path: m[2]! };
}

/** The name `local` is the primary repository's column in the catalog. */
const RESERVED = new Set(['local', 'primary']);

/**
 * One copy's settings, checked without touching the file system (the config file is read by every
 * command); `copy-add` checks what only the file system can tell (src/copies/check.ts).
 */
export function validateCopy(input: unknown, where: string, repo: string): CopySpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid(`${where} must be an object with name and dest.`);
  const o = input as Record<string, unknown>;
  const text = (field: string): string | undefined => {
    const v = o[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw invalid(`${where}: ${field} must be non-empty text.`, { field });
    if (/[\u0000-\u001f\u007f]/.test(v)) throw invalid(`${where}: ${field} contains a newline or another control character; type it on one line without them.`, { field });
    if (v.length > 4095) throw invalid(`${where}: ${field} is ${v.length} characters long; at most 4095 are allowed.`, { field });
    return v.trim();
  };
  const name = text('name');
  if (name === undefined) throw invalid(`${where}: the copy's name is missing; give it as COPY, e.g. nas or offsite.`);
  if (!COPY_NAME_RE.test(name) || RESERVED.has(name.toLowerCase())) {
    throw invalid(`${where}: copy name "${name}" is not usable; use letters, digits, "-" or "_" (at most 32), starting with a letter or digit, and not "local" or "primary".`, { field: 'copy' });
  }
  const destText = text('dest');
  if (destText === undefined) throw invalid(`${where}: copy "${name}" has no destination; give it with --dest DIR or --dest remote:path.`, { field: 'dest' });
  if (destText.startsWith('-')) throw invalid(`${where}: dest "${destText}" starts with "-"; give an absolute directory or an rclone remote like nas:backups.`, { field: 'dest' });
  const dest = parseDest(destText);
  if (!dest) throw invalid(`${where}: dest "${destText}" is neither an absolute directory nor an rclone remote; give e.g. /mnt/nas/dbdrill or offsite:bucket/dbdrill.`, { field: 'dest' });
  if (dest.kind === 'local') {
    if (dest.dir === '/') throw invalid(`${where}: dest is the root directory /; give the copy a directory of its own, e.g. /mnt/nas/dbdrill.`, { field: 'dest' });
    if (dest.dir.split('/').includes('..')) throw invalid(`${where}: dest "${destText}" contains ".."; give the directory's own absolute path.`, { field: 'dest' });
    const r = relative(normalize(repo), dest.dir);
    if (r === '' || (!r.startsWith('..') && !isAbsolute(r))) {
      throw invalid(`${where}: dest ${dest.dir} is inside the primary repository ${repo}; a copy there is lost with it, so give a directory on another disk.`, { field: 'dest' });
    }
    const back = relative(dest.dir, normalize(repo));
    if (!back.startsWith('..') && !isAbsolute(back)) {
      throw invalid(`${where}: dest ${dest.dir} contains the primary repository ${repo}; give a directory of its own on another disk.`, { field: 'dest' });
    }
  } else if (dest.path.split('/').includes('..')) {
    throw invalid(`${where}: dest "${destText}" contains ".."; give the remote path itself.`, { field: 'dest' });
  }
  const rcloneConfig = text('rcloneConfig');
  if (rcloneConfig !== undefined) {
    if (dest.kind === 'local') throw invalid(`${where}: an rclone config is only used with an rclone remote dest (remote:path), not with the directory ${destText}; leave it out.`, { field: 'rcloneConfig' });
    if (!isAbsolute(rcloneConfig)) throw invalid(`${where}: rclone config "${rcloneConfig}" is a relative path; give the full path of the file.`, { field: 'rcloneConfig' });
  }
  if (o.offsite !== undefined && typeof o.offsite !== 'boolean') throw invalid(`${where}: offsite must be true or false.`, { field: 'offsite' });
  const spec: CopySpec = { name, dest: dest.kind === 'local' ? dest.dir : destText };
  if (o.offsite === true) spec.offsite = true;
  if (o.keepFull !== undefined) {
    const n = typeof o.keepFull === 'string' && /^\d{1,4}$/.test(o.keepFull.trim()) ? Number(o.keepFull.trim()) : o.keepFull;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1000) {
      throw invalid(`${where}: keep-full must be a whole number of full backups from 1 to 1000, not ${JSON.stringify(o.keepFull).slice(0, 40)}.`, { field: 'keepFull' });
    }
    spec.keepFull = n;
  }
  if (rcloneConfig !== undefined) spec.rcloneConfig = rcloneConfig;
  return spec;
}

/** The list of copies of a target (absent: none), names unique. */
export function validateCopies(input: unknown, where: string, repo: string): CopySpec[] | undefined {
  if (input === undefined) return undefined;
  if (!Array.isArray(input)) throw invalid(`${where}copies must be a list of copies.`);
  const seen = new Set<string>();
  return input.map((c, i) => {
    const spec = validateCopy(c, `${where}copies[${i}]`, repo);
    if (seen.has(spec.name.toLowerCase())) throw invalid(`${where}copies: the name "${spec.name}" is used twice; give each copy its own name.`);
    seen.add(spec.name.toLowerCase());
    return spec;
  });
}

/** The age recipients copies are encrypted to (public keys only). */
export function validateRecipients(input: unknown, label: string): string[] | undefined {
  if (input === undefined) return undefined;
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) return undefined;
  return list.map((r) => {
    if (typeof r !== 'string' || !AGE_RECIPIENT_RE.test(r.trim())) {
      // A private key typed by mistake must not be echoed into a terminal or a log.
      if (typeof r === 'string' && /AGE-SECRET-KEY/i.test(r)) {
        throw invalid(`${label} is a private key (AGE-SECRET-KEY…); give the public key (age1…) instead, and keep the private one off this machine's config.`, { field: 'encryptTo' });
      }
      const shown = typeof r === 'string' ? `"${r.slice(0, 80)}"` : String(r);
      throw invalid(
        `${label} ${shown} is not an age public key; give the recipient line age-keygen printed ("Public key: age1…", 62 characters), never the private AGE-SECRET-KEY.`,
        { field: 'encryptTo' },
      );
    }
    return r.trim();
  });
}
