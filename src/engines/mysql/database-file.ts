import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../repo/atomic.js';

/**
 * The schema's own defaults, kept next to the dump. A dump of one schema (without --databases)
 * has no CREATE DATABASE line, so without this a restore would give the new schema the server's
 * default character set instead of the source's.
 */
export interface DatabaseFile {
  name: string;
  characterSet: string;
  collation: string;
}

export const DATABASE_FILE = 'database.json';

export function writeDatabaseFile(dir: string, info: DatabaseFile): void {
  writeFileAtomic(join(dir, DATABASE_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export function readDatabaseFile(dir: string): DatabaseFile | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dir, DATABASE_FILE), 'utf8')) as Partial<DatabaseFile>;
    if (typeof v.name !== 'string' || typeof v.characterSet !== 'string' || typeof v.collation !== 'string') return undefined;
    return { name: v.name, characterSet: v.characterSet, collation: v.collation };
  } catch {
    return undefined;
  }
}

/** " CHARACTER SET x COLLATE y" for CREATE DATABASE, or "" when the names are not plain words. */
export function charsetClause(info: DatabaseFile | undefined): string {
  if (!info) return '';
  const word = /^[A-Za-z0-9_]+$/;
  let out = '';
  if (word.test(info.characterSet)) out += ` CHARACTER SET ${info.characterSet}`;
  if (info.collation && word.test(info.collation)) out += ` COLLATE ${info.collation}`;
  return out;
}
