import { invalid } from '../errors.js';
import { parseDuration } from './duration.js';
import { validateDrillChecks, type DrillCheck } from './drill-checks.js';
import { validateHealthSettings, type HealthSettings } from './health-settings.js';
import { configLabel, validatePolicy, type Policy } from './policy.js';

export const ENGINES = ['postgres', 'mysql'] as const;
export type Engine = (typeof ENGINES)[number];

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
    if (v === undefined || v === null || v === '') {
      if (required) throw invalid(`${at(field)} is missing; give it with --${flagName(field)}.`, { field });
      return undefined;
    }
    if (typeof v !== 'string') throw invalid(`${at(field)} must be text, not ${typeof v}.`, { field });
    return v.trim();
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
  const port = parsePort(input.port ?? (engine === 'postgres' ? 5432 : 3306), at('port'));
  const user = str('user', false) ?? (engine === 'postgres' ? 'postgres' : 'root');
  const dbname = str('dbname', false) ?? (engine === 'postgres' ? 'postgres' : '');
  if (engine === 'mysql' && !dbname) {
    // A MySQL logical backup needs to know which schema it protects.
    throw invalid(`${at('dbname')} is missing; give the schema to protect with --dbname.`, { field: 'dbname' });
  }
  const repo = str('repo', true)!;
  const passwordEnv = str('passwordEnv', false);
  if (passwordEnv !== undefined && !ENV_RE.test(passwordEnv)) {
    throw invalid(`${at('passwordEnv')} "${passwordEnv}" is not an environment variable name; use e.g. PGPASSWORD_PROD.`, {
      field: 'passwordEnv',
    });
  }
  const passwordFile = str('passwordFile', false);
  const rto = str('rto', false);
  if (rto !== undefined) parseDuration(rto, at('rto'));
  const rpo = str('rpo', false);
  if (rpo !== undefined) parseDuration(rpo, at('rpo'));
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
  if (input.sandbox === true) target.sandbox = true;
  return target;
}

export function parsePort(value: unknown, field = 'port'): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw invalid(`${field} "${String(value)}" is out of range; use a port number from 1 to 65535.`, { field: 'port' });
  }
  return n;
}

function flagName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
