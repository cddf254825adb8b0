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
];

export interface FormState {
  mode: 'add' | 'edit';
  /** The target being edited. */
  original?: string;
  values: TargetForm;
  focus: number;
  error?: string;
  saving: boolean;
}

export const EMPTY_FORM: TargetForm = { name: '', engine: 'postgres', host: '', port: '', user: '', dbname: '', repo: '', passwordEnv: '', rto: '', rpo: '', method: '' };

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
  return fallback;
}

/** The field an engine error names (DbdrillError detail.field), as an index into FORM_FIELDS. */
export function fieldIndex(field: string | undefined): number | undefined {
  const i = FORM_FIELDS.findIndex((f) => f.field === field);
  return i >= 0 ? i : undefined;
}

/** A readable version of the engine's sentence: field names as the form labels them. */
export function formError(message: string): string {
  return message.replace(/\bpasswordEnv\b/g, 'password env').replace(/; give it with --[a-z-]+\./, '; fill it in.');
}
