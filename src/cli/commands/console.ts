import { parseCommand, str } from '../args.js';
import { usageLine } from '../command-table.js';

/**
 * `dbdrill` with no command. On a terminal it opens the console; on a pipe or in cron there is no
 * one to read a screen, so it prints what the console's first screen shows: the targets.
 */
export async function consoleCommand(argv: string[]): Promise<number> {
  const p = parseCommand(argv, {}, usageLine('console'));
  if (!process.stdin.isTTY || !process.stdout.isTTY || p.values.json === true) {
    // `ssh host dbdrill` without -t lands here: say why no console opened, on stderr only.
    if (p.values.json !== true) process.stderr.write(`dbdrill: ${notATerminal()}; showing the target list — run \`ssh -t\` (or a terminal) for the console\n`);
    // Imported here only: the target commands load pg and mysql2, which the console defers.
    return (await import('./target.js')).targetCommand(['list', ...argv]);
  }
  const { openConsole } = await import('../console.js');
  return openConsole(str(p, 'config'));
}

function notATerminal(): string {
  const which = [!process.stdin.isTTY && 'stdin', !process.stdout.isTTY && 'stdout'].filter(Boolean);
  return `not a terminal (${which.join(' and ')} ${which.length > 1 ? 'are' : 'is'} not a TTY)`;
}
