import { COMMANDS, findCommand, formsOf, type UsageForm } from './command-table.js';

/** Every help text fits an 80-column terminal (the console's size, and an SSH session's). */
export const HELP_WIDTH = 80;
const INDENT = '  ';
const CONTINUE = '      ';
/** Where a summary starts when it fits beside its usage line. */
const SUMMARY_COLUMN = 42;

const HEADER = 'dbdrill — backups, point-in-time restores and restore drills for PostgreSQL and\nMySQL/MariaDB';

const FOOTER = `Every command takes --json (one JSON document on stdout, logs on stderr) and
--config DIR (or DBDRILL_CONFIG_DIR). Exit codes: 0 ok, 1 failed, 2 bad usage or
input, 3 warning, 4 critical. Times: ISO 8601 with a zone (2026-11-24T14:30:00Z,
2026-11-24 15:30+01:00) or relative (-15m). dbdrill COMMAND --help: one command.`;

/** Splits a usage line at spaces outside [brackets], so an optional group stays on one line. */
function tokens(line: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of line) {
    if (ch === '[') depth++;
    if (ch === ']') depth = Math.max(0, depth - 1);
    if (ch === ' ' && depth === 0) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/** Wraps words into lines of at most `width`, the first prefixed by `first`, the rest by `rest`. */
export function wrapWords(words: string[], width: number, first: string, rest: string): string[] {
  const lines: string[] = [];
  let cur = first;
  let empty = true;
  for (const w of words) {
    const candidate = empty ? cur + w : `${cur} ${w}`;
    if (!empty && candidate.length > width) {
      lines.push(cur);
      cur = rest + w;
    } else cur = candidate;
    empty = false;
  }
  lines.push(cur);
  return lines;
}

/** One usage form: its wrapped usage, then its summary beside the last line or under it. */
function renderForm(f: UsageForm): string[] {
  const lines = wrapWords(tokens(`dbdrill ${f.line}`), HELP_WIDTH, INDENT, CONTINUE);
  const last = lines[lines.length - 1]!;
  const column = [Math.max(SUMMARY_COLUMN, last.length + 2), last.length + 2].find((c) => c + f.summary.length <= HELP_WIDTH);
  if (column !== undefined) lines[lines.length - 1] = last.padEnd(column) + f.summary;
  else lines.push(...wrapWords(f.summary.split(' '), HELP_WIDTH, CONTINUE + INDENT, CONTINUE + INDENT));
  return lines;
}

/** `dbdrill --help`: every command's forms. */
export function helpText(): string {
  const forms = COMMANDS.flatMap((c) => (c.name === 'console' ? [] : c.forms));
  const console = findCommand('console')!.forms;
  return [HEADER, '', 'Usage:', ...[...console, ...forms, { line: '--version', summary: 'the version' }].flatMap(renderForm), '', FOOTER, ''].join('\n');
}

/** `dbdrill COMMAND [SUB] --help`: that command's (or subcommand's) forms. */
export function commandHelp(name: string, sub?: string): string {
  return ['Usage:', ...formsOf(name, sub).flatMap(renderForm), '', FOOTER, ''].join('\n');
}
