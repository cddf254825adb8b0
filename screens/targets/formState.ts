import type { TargetForm, TargetRow } from '../api.js';

export type FormField = keyof TargetForm;

/** The form's fields in order, with the label and what a right value looks like. */
export const FORM_FIELDS: readonly { field: FormField; label: string; hint: string }[] = [
  { field: 'name', label: 'name', hint: 'letters, digits, - or _' },
  { field: 'engine', label: 'engine', hint: 'postgres or mysql (←→ switches)' },
  { field: 'host', label: 'host', hint: 'blank: 127.0.0.1' },
  { field: 'port', label: 'port', hint: 'blank: 5432 / 3306' },
  { field: 'user', label: 'user', hint: 'blank: postgres / root' },
  { field: 'dbname', label: 'database', hint: 'the database (schema for MySQL) to protect' },
  { field: 'repo', label: 'repository', hint: 'a directory for the backups' },
  { field: 'passwordEnv', label: 'password env', hint: 'NAME of the variable holding it' },
  { field: 'rto', label: 'RTO', hint: 'e.g. 4h (optional)' },
  { field: 'rpo', label: 'RPO', hint: 'e.g. 15m (optional)' },
  { field: 'method', label: 'method', hint: 'blank: native; pgbackrest (PostgreSQL)' },
  { field: 'cipherPass', label: 'cipher pass', hint: 'pgbackrest: /file or $VARIABLE holding it' },
];

/** The engine's names for what one form field holds (error details name these). */
const FIELD_ALIASES: Readonly<Record<string, FormField>> = { cipherPassFile: 'cipherPass', cipherPassEnv: 'cipherPass' };

export interface FormState {
  mode: 'add' | 'edit';
  /** The target being edited. */
  original?: string;
  values: TargetForm;
  focus: number;
  error?: string;
  saving: boolean;
}

export const EMPTY_FORM: TargetForm = { name: '', engine: 'postgres', host: '', port: '', user: '', dbname: '', repo: '', passwordEnv: '', rto: '', rpo: '', method: '', cipherPass: '' };

export function formFor(row: TargetRow | undefined): FormState {
  if (!row) return { mode: 'add', values: { ...EMPTY_FORM }, focus: 0, saving: false };
  return {
    mode: 'edit',
    original: row.name,
    values: {
      name: row.name,
      engine: row.engine,
      host: row.host,
      port: String(row.port),
      user: row.user,
      dbname: row.dbname,
      repo: row.repo,
      passwordEnv: row.passwordEnv ?? '',
      rto: row.rto ?? '',
      rpo: row.rpo ?? '',
      method: row.method ?? '',
      cipherPass: row.cipherPassFile ?? (row.cipherPassEnv ? `$${row.cipherPassEnv}` : ''),
    },
    // The name is fixed when editing; start on the first field that can change.
    focus: 1,
    saving: false,
  };
}

/** A field's hint for the engine chosen in the form: the defaults a blank takes follow the engine. */
export function fieldHint(field: FormField, values: { engine: string }, fallback: string): string {
  const mysql = values.engine.trim() === 'mysql';
  if (field === 'port') return `blank: ${mysql ? 3306 : 5432}`;
  if (field === 'user') return `blank: ${mysql ? 'root' : 'postgres'}`;
  if (field === 'method' && mysql) return 'blank: native';
  if (field === 'cipherPass' && mysql) return 'none for mysql (pgBackRest only)';
  return fallback;
}

/** The field an engine error names (DbdrillError detail.field), as an index into FORM_FIELDS. */
export function fieldIndex(field: string | undefined): number | undefined {
  const named = field === undefined ? undefined : (FIELD_ALIASES[field] ?? field);
  const i = FORM_FIELDS.findIndex((f) => f.field === named);
  return i >= 0 ? i : undefined;
}

/** A readable version of the engine's sentence: field names as the form labels them. */
export function formError(message: string): string {
  return message
    .replace(/\bpasswordEnv\b/g, 'password env')
    .replace(/\bcipherPass(File|Env)\b/g, 'cipher pass')
    .replace(/add --method (\w+) or drop --cipher-pass-(file|env)/g, 'set method to $1 or clear cipher pass')
    .replace(/use --method (\w+) or --method (\w+)/g, 'use $1 or $2')
    .replace(/; give it with --[a-z-]+\./, '; fill it in.');
}
