import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usage } from '../errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Flags every command takes. */
export const GLOBAL_OPTIONS = {
  json: { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses one command's flags strictly: an unknown flag or a missing value is a usage error that
 * names the flag and the command's usage line, never a Node stack trace.
 */
export function parseCommand(argv: string[], options: OptionSpec, usageLine: string): Parsed {
  const all = { ...GLOBAL_OPTIONS, ...options };
  let parsed: Parsed;
  try {
    const { values, positionals } = parseArgs({
      args: attachNegativeValues(argv, all),
      options: all,
      allowPositionals: true,
      strict: true,
    });
    parsed = { values: values as Parsed['values'], positionals };
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/'/g, '"');
    throw usage(`${msg.replace(/\.$/, '')}; usage: ${usageLine}.`);
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    // An empty value is never what was meant (`--host ""`, `--repo "$UNSET_VAR"`): say so
    // instead of falling back to a default silently.
    if (typeof value === 'string' && value.trim() === '') throw usage(`--${name} is empty; give it a value or leave --${name} out; usage: ${usageLine}.`);
  }
  return parsed;
}

/** A value that looks like a negative number or a relative time: -15m, -1h30m, -5, -0.5. */
const NEGATIVE_VALUE = /^-\d/;

/**
 * `--to -15m` as the README writes it: node's parseArgs reads "-15m" as a cluster of short
 * flags and refuses it. A string option followed by a token that looks like a negative value
 * takes it as its value (`--to=-15m`). Only for options that take a value, and never for a
 * token after `--`.
 */
export function attachNegativeValues(argv: string[], options: OptionSpec): string[] {
  const takesValue = (token: string): boolean => {
    if (token.startsWith('--')) return options[token.slice(2)]?.type === 'string';
    if (/^-[A-Za-z]$/.test(token)) return Object.values(options).some((o) => o.short === token.slice(1) && o.type === 'string');
    return false;
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (next !== undefined && NEGATIVE_VALUE.test(next) && takesValue(a)) {
      // Long options take --name=value; a short option takes its value joined on (-t-15m).
      out.push(a.startsWith('--') ? `${a}=${next}` : `${a}${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requirePositional(p: Parsed, index: number, what: string, usageLine: string): string {
  const v = p.positionals[index];
  if (v === undefined || v === '') throw usage(`${what} is missing; usage: ${usageLine}.`);
  return v;
}

export function noExtraPositionals(p: Parsed, count: number, usageLine: string): void {
  if (p.positionals.length > count) {
    throw usage(`Unexpected argument "${p.positionals[count]}"; usage: ${usageLine}.`);
  }
}
