#!/usr/bin/env node
// The entry stays tiny and imports commands lazily: `dbdrill --version` and `dbdrill wal-push`
// (run by PostgreSQL for every WAL segment) must not pay for React or the database drivers.
import { version } from '../version.js';

const HELP_FLAGS = new Set(['--help', '-h']);

/**
 * `dbdrill --config DIR target list` reads as naturally as `dbdrill target list --config DIR`:
 * global options written before the command move after it (every command parses them).
 */
function liftGlobalOptions(argv: string[]): string[] {
  const lifted: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json' || a.startsWith('--config=')) lifted.push(a);
    else if (a === '--config' && i + 1 < argv.length) lifted.push(a, argv[++i]!);
    else break;
  }
  return i === argv.length ? lifted : [argv[i]!, ...argv.slice(i + 1), ...lifted];
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === '--version' || first === '-V' || first === 'version') {
    process.stdout.write(`dbdrill ${version()}\n`);
    return 0;
  }
  // Everything dbdrill or its tools create (dumps, manifests, WAL copies) is private: 0600/0700.
  process.umask(0o077);
  // Ink 6 ignores NO_COLOR; chalk reads FORCE_COLOR when it is first imported.
  if (process.env.NO_COLOR) process.env.FORCE_COLOR = '0';

  const { Output } = await import('./output.js');
  const out = new Output(argv.includes('--json'));
  try {
    const { COMMANDS, findCommand, subcommandsOf } = await import('./command-table.js');
    type CommandRun = import('./command-table.js').CommandRun;
    const args = liftGlobalOptions(argv);
    const word = args[0];
    if (word !== undefined && (HELP_FLAGS.has(word) || word === 'help')) {
      const { helpText, commandHelp } = await import('./help.js');
      // `dbdrill help restore` is `dbdrill restore --help`.
      const about = word === 'help' && args[1] !== undefined ? findCommand(args[1]) : undefined;
      process.stdout.write(about ? commandHelp(about.name, args[2]) : helpText());
      return 0;
    }
    const cmd = word === undefined || word.startsWith('-') ? findCommand('console')! : findCommand(word);
    if (!cmd) {
      const { usage } = await import('../errors.js');
      const { closest } = await import('./suggest.js');
      const guess = closest(word!, [...COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]), 'help', 'version']);
      throw usage(guess ? `Unknown command "${word}"; did you mean ${guess}?` : `Unknown command "${word}"; run dbdrill --help for the list of commands.`);
    }
    const rest = cmd.name === 'console' && word !== 'console' ? args : args.slice(1);
    if (rest.some((a) => HELP_FLAGS.has(a))) {
      const { commandHelp } = await import('./help.js');
      const sub = subcommandsOf(cmd.name).length > 0 ? rest[0] : undefined;
      process.stdout.write(commandHelp(cmd.name, sub !== undefined && !sub.startsWith('-') ? sub : undefined));
      return 0;
    }
    const mod = (await import(`./commands/${cmd.run.module}.js`)) as Record<string, CommandRun>;
    return await mod[cmd.run.fn]!(rest);
  } catch (e) {
    return out.error(e);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`dbdrill: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
