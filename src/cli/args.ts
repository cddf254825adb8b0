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
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/'/g, '"');
    throw usage(`${msg.replace(/\.$/, '')}; usage: ${usageLine}.`);
  }
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
