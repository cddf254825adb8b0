import { isAbsolute, normalize } from 'node:path';
import { invalid } from '../errors.js';
import { parseDuration } from './duration.js';
import { validateDrillChecks, type DrillCheck } from './drill-checks.js';
import { validateHealthSettings, type HealthSettings } from './health-settings.js';
import { ENGINES, type Engine } from './engines.js';
import { METHOD_SETTINGS, METHODS } from './methods.js';
import { validateCopies, validateRecipients, type CopySpec } from './copies.js';
import { configLabel, validatePolicy, type Policy } from './policy.js';

export { ENGINES, type Engine };

/** A database dbdrill protects, as stored in the config file. Never holds a password. */
export interface Target {
  name: string;
  engine: Engine;
  host: string;
  port: number;
  user: string;
  dbname: string;
  /** The repository directory: the catalog of this target's backups. */
  repo: string;
  /** Name of the environment variable that holds the password. */
  passwordEnv?: string;
  /** A 0600 file whose first line is the password (the sandbox uses this). */
  passwordFile?: string;
  /** Recovery time objective, e.g. "4h". */
  rto?: string;
  /** Recovery point objective, e.g. "15m". */
  rpo?: string;
  /** Health check thresholds (dbdrill health); missing fields take the defaults. */
  health?: HealthSettings;
  /** The target's own SQL checks, run against every drill's restored instance. */
  checks?: DrillCheck[];
  /** Schedules, retention and job time limit; `dbdrill tick` runs it (src/config/policy.ts). */
  policy?: Policy;
  /** Copies of the repository on other media (src/config/copies.ts, issue 17). */
  copies?: CopySpec[];
  /** age public keys that copies are encrypted to. */
  encryptTo?: string[];
  /** How backups are taken (src/config/methods.ts): absent means the engine's native tools. */
  method?: string;
  /** Parallel processes of the method's tool (pgBackRest process-max); its default when absent. */
  processMax?: number;
  /** The method's checkpoint at backup start: fast (the default) or spread. */
  checkpoint?: 'fast' | 'spread';
  /**
   * pgBackRest's repository cipher (aes-256-cbc): a 0600 file whose first line is the pass, or the
   * environment variable holding it. Only where the pass is kept is stored, never the pass.
   */
  cipherPassFile?: string;
  cipherPassEnv?: string;
  /** Set for targets that dbdrill created itself (the training sandbox). */
  sandbox?: boolean;
  /**
   * Only for targets that live in memory (a drill's scratch instance): never stored, because
   * validateTarget does not copy it and so the config file never receives it.
   */
  password?: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/i;
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Raw input, as it comes from flags, a form or the config file. */
export type TargetInput = Record<string, unknown>;

/**
 * Checks every field and returns a clean Target, or throws one sentence naming the first field
 * that is wrong and what a right value looks like. `where` says where the input came from so the
 * operator knows what to edit.
 */
export function validateTarget(input: TargetInput, where = ''): Target {
  const at = (field: string) => (where ? `${where}: ` : '') + field;
  const str = (field: string, required: boolean): string | undefined => {
    const v = input[field];
    if (v !== undefined && v !== null && typeof v !== 'string') throw invalid(`${at(field)} must be text, not ${typeof v}.`, { field });
    const text = v?.trim();
    if (text === undefined || text === '') {
      if (required) throw invalid(`${at(field)} is missing; give it with --${flagName(field)}.`, { field });
      return undefined;
    }
    // A newline or other control character in a setting ends up in a command line, a file
    // name or a config line where it means something else.
    if (/[\u0000-\u001f\u007f]/.test(text)) throw invalid(`${at(field)} contains a newline or another control character; type it on one line without them.`, { field });
    const limit = LENGTH_LIMITS[field] ?? 255;
    if (text.length > limit) throw invalid(`${at(field)} is ${text.length} characters long; at most ${limit} are allowed.`, { field });
    return text;
  };

  const name = str('name', true)!;
  if (!NAME_RE.test(name)) {
    throw invalid(
      `${at('name')} "${name}" is not a valid target name; use letters, digits, "-" or "_" (at most 63), starting with a letter or digit.`,
      { field: 'name' },
    );
  }
  const engine = str('engine', true)!;
  if (!(ENGINES as readonly string[]).includes(engine)) {
    throw invalid(`${at('engine')} "${engine}" is not supported; use --engine postgres or --engine mysql.`, {
      field: 'engine',
    });
  }
  const host = str('host', false) ?? '127.0.0.1';
  if (/\s/.test(host)) throw invalid(`${at('host')} "${host}" contains spaces; give a host name or address.`, { field: 'host' });
  if (!/^[A-Za-z0-9._:%/[\]_-]+$/.test(host)) {
    throw invalid(`${at('host')} "${host}" is not a host name, an address or a socket directory; use e.g. db1.example.com, 10.0.0.5 or ::1.`, { field: 'host' });
  }
  if (host.startsWith('-')) throw invalid(`${at('host')} "${host}" starts with "-", which no host name does; give a host name or address.`, { field: 'host' });
  if (host.includes('/') && !host.startsWith('/')) {
    throw invalid(`${at('host')} "${host}" is neither a host name nor a socket directory (those start with /); use e.g. db1.example.com or /var/run/postgresql.`, { field: 'host' });
  }
  const port = parsePort(input.port ?? (engine === 'postgres' ? 5432 : 3306), at('port'));
  const user = str('user', false) ?? (engine === 'postgres' ? 'postgres' : 'root');
  const dbname = str('dbname', false) ?? (engine === 'postgres' ? 'postgres' : '');
  if (engine === 'mysql' && !dbname) {
    // A MySQL logical backup needs to know which schema it protects.
    throw invalid(`${at('dbname')} is missing; give the schema to protect with --dbname.`, { field: 'dbname' });
  }
  if (user.length > (engine === 'postgres' ? 63 : 80)) {
    throw invalid(`${at('user')} is ${user.length} characters long; ${engine === 'postgres' ? 'PostgreSQL role names have at most 63' : 'MariaDB user names have at most 80'}.`, { field: 'user' });
  }
  if (dbname.length > (engine === 'postgres' ? 63 : 64)) {
    throw invalid(`${at('dbname')} is ${dbname.length} characters long; ${engine === 'postgres' ? 'PostgreSQL database names have at most 63' : 'MySQL/MariaDB schema names have at most 64'}.`, { field: 'dbname' });
  }
  for (const [field, value] of [['user', user], ['dbname', dbname]] as const) {
    // Legal inside quotes in PostgreSQL, but never a real account or database: a path in disguise.
    if (/[/\\]/.test(value)) throw invalid(`${at(field)} "${value}" contains "/" or "\\"; give the ${field === 'user' ? 'account' : 'database'} name itself.`, { field });
  }
  if (engine === 'mysql' && /[/\\.]/.test(dbname)) {
    throw invalid(`${at('dbname')} "${dbname}" contains "/", "\\" or "."; MySQL/MariaDB schema names cannot, so give the schema's own name.`, { field: 'dbname' });
  }
  const repo = str('repo', true)!;
  if (!isAbsolute(repo)) {
    throw invalid(`${at('repo')} "${repo}" is a relative path, which would mean a different directory in every working directory; give the full path, e.g. /srv/dbdrill/${name}.`, { field: 'repo' });
  }
  if (normalize(repo) === '/') throw invalid(`${at('repo')} is the root directory /; give the target a directory of its own, e.g. /srv/dbdrill/${name}.`, { field: 'repo' });
  const passwordEnv = str('passwordEnv', false);
  if (passwordEnv !== undefined && !ENV_RE.test(passwordEnv)) {
    throw invalid(`${at('passwordEnv')} "${passwordEnv}" is not an environment variable name; use e.g. PGPASSWORD_PROD.`, {
      field: 'passwordEnv',
    });
  }
  const passwordFile = str('passwordFile', false);
  if (passwordFile !== undefined && !isAbsolute(passwordFile)) {
    throw invalid(`${at('passwordFile')} "${passwordFile}" is a relative path; give the full path of the file.`, { field: 'passwordFile' });
  }
  if (passwordEnv !== undefined && passwordFile !== undefined) {
    throw invalid(`${at('passwordEnv')} and ${at('passwordFile')} are both given; a target reads its password from one place, so keep only one of them.`, { field: 'passwordFile' });
  }
  const rto = str('rto', false);
  if (rto !== undefined) objective(rto, at('rto'), 'rto');
  const rpo = str('rpo', false);
  if (rpo !== undefined) objective(rpo, at('rpo'), 'rpo');
  const health = validateHealthSettings(input.health, at('health'));

  const target: Target = { name, engine: engine as Engine, host, port, user, dbname, repo };
  if (passwordEnv !== undefined) target.passwordEnv = passwordEnv;
  if (passwordFile !== undefined) target.passwordFile = passwordFile;
  if (rto !== undefined) target.rto = rto;
  if (rpo !== undefined) target.rpo = rpo;
  if (health !== undefined) target.health = health;
  const checks = validateDrillChecks(input.checks, at('checks'));
  if (checks !== undefined) target.checks = checks;
  const policy = validatePolicy(input.policy, { engine: target.engine, name }, configLabel(where));
  if (policy !== undefined) target.policy = policy;
  const copies = validateCopies(input.copies, where ? `${where}: ` : '', repo);
  if (copies !== undefined && copies.length > 0) target.copies = copies;
  const encryptTo = validateRecipients(input.encryptTo, at('encryptTo'));
  if (encryptTo !== undefined) target.encryptTo = encryptTo;
  Object.assign(target, validateMethod(input, target.engine, at));
  if (input.sandbox === true) target.sandbox = true;
  return target;
}

/** The method and its settings; native is the default and is not stored. */
type MethodFields = Pick<Target, 'method' | 'processMax' | 'checkpoint' | 'cipherPassFile' | 'cipherPassEnv'>;

function validateMethod(input: TargetInput, engine: Engine, at: (field: string) => string): MethodFields {
  const raw = input.method;
  if (raw !== undefined && raw !== null && typeof raw !== 'string') throw invalid(`${at('method')} must be text, not ${typeof raw}.`, { field: 'method' });
  const method = raw?.trim() || 'native';
  const known = METHODS[engine];
  if (!known.includes(method)) {
    throw invalid(`${at('method')} "${method}" is not a ${engine === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'} backup method; use --method ${known.join(' or --method ')}.`, { field: 'method' });
  }
  const out: MethodFields = method === 'native' ? {} : { method };
  const allowed = METHOD_SETTINGS[method] ?? [];
  for (const field of ['processMax', 'checkpoint', 'cipherPassFile', 'cipherPassEnv'] as const) {
    const v = input[field];
    if (v === undefined || v === null || v === '') continue;
    if (!allowed.includes(field)) {
      const owner = Object.keys(METHOD_SETTINGS).find((m) => METHOD_SETTINGS[m]!.includes(field) && known.includes(m));
      throw invalid(`${at(field)} is a setting of ${owner ? `the ${owner} method; add --method ${owner} or drop --${flagName(field)}` : `no method of this engine; drop --${flagName(field)}`}.`, { field });
    }
    if (field === 'processMax') {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^ *\d+ *$/.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 64) throw invalid(`${at('processMax')} ${JSON.stringify(String(v))} is out of range; use a whole number from 1 to 64.`, { field });
      out.processMax = n;
    } else if (field === 'cipherPassFile' || field === 'cipherPassEnv') {
      out[field] = cipherSource(field, v, at);
    } else {
      if (v !== 'fast' && v !== 'spread') throw invalid(`${at('checkpoint')} ${JSON.stringify(String(v))} is not known; use fast or spread.`, { field });
      if (v === 'spread') out.checkpoint = v;
    }
  }
  if (out.cipherPassFile !== undefined && out.cipherPassEnv !== undefined) {
    throw invalid(`${at('cipherPassFile')} and ${at('cipherPassEnv')} are both given; the cipher pass comes from one of them, so drop one.`, { field: 'cipherPassEnv' });
  }
  return out;
}

/** Where the cipher pass is kept: an absolute file path, or a variable name; never the pass itself. */
function cipherSource(field: 'cipherPassFile' | 'cipherPassEnv', v: unknown, at: (field: string) => string): string {
  if (typeof v !== 'string') throw invalid(`${at(field)} must be text, not ${typeof v}.`, { field });
  const text = v.trim();
  if (field === 'cipherPassEnv') {
    // Not echoed: what is typed where a name belongs may be the pass itself.
    if (!ENV_RE.test(text)) throw invalid(`${at(field)} is not an environment variable name; use letters, digits and _ (like PGBR_CIPHER), never the pass itself.`, { field });
    return text;
  }
  // archive_command reads the file in the server's shell: a path it could misread is refused.
  if (!text.startsWith('/') || text.length > 4095 || !/^[A-Za-z0-9_./@+,:-]+$/.test(text)) {
    throw invalid(`${at(field)} must be an absolute path of letters, digits and _ . / @ + , : - only, naming the file that holds the pass (never the pass itself).`, { field });
  }
  return text;
}

/** Longest accepted text per field (paths: Linux PATH_MAX); others 255. */
const LENGTH_LIMITS: Record<string, number> = { repo: 4095, passwordFile: 4095, host: 253, name: 63 };

/** Objectives longer than this are a typo (99999999999999999h), not a plan. */
const MAX_OBJECTIVE_SECONDS = 10 * 365 * 86400;

/** An RTO or RPO: a duration above zero and at most ten years. */
function objective(text: string, where: string, field: string): number {
  if (text.startsWith('-')) throw invalid(`${where} "${text}" must be longer than zero; write it like 15m or 4h.`, { field });
  const seconds = parseDuration(text, where);
  if (seconds <= 0) throw invalid(`${where} "${text}" must be longer than zero; write it like 15m or 4h.`, { field });
  if (seconds > MAX_OBJECTIVE_SECONDS) throw invalid(`${where} "${text}" is longer than ten years; write it like 15m or 4h.`, { field });
  return seconds;
}

export function parsePort(value: unknown, field = 'port'): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^ *\d+ *$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    // JSON quoting shows a newline as \n: the sentence stays one line.
    throw invalid(`${field} ${JSON.stringify(String(value))} is out of range; use a port number from 1 to 65535.`, { field: 'port' });
  }
  return n;
}

function flagName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
