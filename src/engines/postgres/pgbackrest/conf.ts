import { invalid } from '../../../errors.js';
import type { PgbackrestLayout } from './layout.js';

/**
 * What dbdrill writes into a target's pgbackrest.conf. Never a secret: the database password
 * reaches pgBackRest's libpq as PGPASSWORD, a repository cipher pass as
 * PGBACKREST_REPO1_CIPHER_PASS, both in the child's environment only.
 */
export interface ConfSettings {
  /** The stanza: the target's name. */
  stanza: string;
  layout: PgbackrestLayout;
  /** The server as pgBackRest reaches it locally (see local-server.ts). */
  pg: { dataDir: string; port: number; socketDir: string; user: string; database: string };
  /** Parallel processes for backup, restore, async archive-push and verify. */
  processMax: number;
  /** fast: start-fast=y (an immediate checkpoint); spread waits for the next regular one. */
  checkpoint: 'fast' | 'spread';
  /** Encrypt the repository (aes-256-cbc); the pass is given in the environment, never here. */
  cipher?: boolean;
}

/**
 * Expiry is dbdrill's (its retention policy runs `expire` with explicit options); pgBackRest
 * expires after every backup by itself, so its own count is set out of reach. 9999999 is the
 * largest value pgBackRest accepts.
 */
export const RETENTION_OUT_OF_REACH = 9999999;

export const DEFAULT_PROCESS_MAX = 2;

/**
 * archive-push's own options (a [global:archive-push] section): zst at level 1 instead of
 * pgBackRest's default 3. WAL must keep up with the server, and on the wal-push bench (100
 * segments at the cp+sync pace, 2 cores) async archive-push did 11.0 segments/s with a largest
 * backlog of 17 at level 1 against 9.6 and 35 at level 3; process-max 4 was slower (8.5, 43).
 * Backups keep the default level.
 */
export const ARCHIVE_PUSH_OPTIONS: readonly [string, string][] = [['compress-level', '1']];

export function confOptions(s: ConfSettings): { global: [string, string][]; archivePush: [string, string][]; stanza: [string, string][] } {
  if (!Number.isInteger(s.processMax) || s.processMax < 1 || s.processMax > 999) {
    throw invalid(`process-max ${s.processMax} is out of range; use a whole number from 1 to 999.`);
  }
  const global: [string, string][] = [
    ['repo1-path', s.layout.repoPath],
    ['repo1-retention-full', String(RETENTION_OUT_OF_REACH)],
    ...(s.cipher ? ([['repo1-cipher-type', 'aes-256-cbc']] as [string, string][]) : []),
    ['compress-type', 'zst'],
    ['process-max', String(s.processMax)],
    // archive_command returns as soon as the segment is queued in the spool; a background
    // process pushes the queue in parallel. archive-push-queue-max stays unset: when set and
    // exceeded, pgBackRest drops WAL to save the server's disk, which would open a gap.
    ['archive-async', 'y'],
    ['spool-path', s.layout.spoolPath],
    ['log-path', s.layout.logPath],
    ['lock-path', s.layout.lockPath],
    ['start-fast', s.checkpoint === 'spread' ? 'n' : 'y'],
  ];
  const stanza: [string, string][] = [
    ['pg1-path', s.pg.dataDir],
    ['pg1-port', String(s.pg.port)],
    ['pg1-socket-path', s.pg.socketDir],
    ['pg1-user', s.pg.user],
    ['pg1-database', s.pg.database],
  ];
  const archivePush = ARCHIVE_PUSH_OPTIONS.map(([k, v]) => [k, v] as [string, string]);
  for (const [key, value] of [...global, ...archivePush, ...stanza]) checkValue(key, value);
  return { global, archivePush, stanza };
}

/** The file's text: an ini with a [global] section and one [<stanza>] section. */
export function renderConf(s: ConfSettings): string {
  const { global, archivePush, stanza } = confOptions(s);
  checkValue('stanza', s.stanza);
  if (/[[\]]/.test(s.stanza)) throw invalid(`The stanza name "${s.stanza}" cannot hold [ or ]; give the target a name of letters, digits, "-" and "_".`);
  const line = ([k, v]: [string, string]) => `${k}=${v}`;
  return [
    `# Written by dbdrill for target "${s.stanza}"; dbdrill rewrites it, so change the target instead.`,
    '# No secret belongs here: dbdrill passes passwords to pgBackRest in its environment.',
    '[global]',
    ...global.map(line),
    '',
    '[global:archive-push]',
    ...archivePush.map(line),
    '',
    `[${s.stanza}]`,
    ...stanza.map(line),
    '',
  ].join('\n');
}

/** pgBackRest reads a value to the end of its line and trims it: neither may be lost silently. */
function checkValue(key: string, value: string): void {
  if (/[\r\n]/.test(value)) throw invalid(`The pgBackRest setting ${key} cannot span lines ("${value.replace(/[\r\n]+/g, '⏎')}").`);
  if (value !== value.trim() || value === '') throw invalid(`The pgBackRest setting ${key} "${value}" is empty or starts or ends with a space, which pgBackRest would drop.`);
}
