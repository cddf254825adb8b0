#!/usr/bin/env node
// The entry stays tiny and imports commands lazily: `dbdrill --version` and `dbdrill wal-push`
// (run by PostgreSQL for every WAL segment) must not pay for React or the database drivers.
import { version } from '../version.js';

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
  const json = argv.includes('--json');
  const out = new Output(json);
  try {
    if (first === '--help' || first === '-h' || first === 'help') {
      const { HELP } = await import('./help.js');
      process.stdout.write(HELP);
      return 0;
    }
    if (first === undefined || first.startsWith('-') || first === 'console') {
      const rest = first === 'console' ? argv.slice(1) : argv;
      const { consoleCommand } = await import('./commands/console.js');
      return await consoleCommand(rest);
    }
    switch (first) {
      case 'wal-push':
        return await (await import('./commands/wal.js')).walPushCommand(argv.slice(1));
      case 'wal-fetch':
        return await (await import('./commands/wal.js')).walFetchCommand(argv.slice(1));
      case 'target':
        return await (await import('./commands/target.js')).targetCommand(argv.slice(1));
      case 'backup':
        return await (await import('./commands/backup.js')).backupCommand(argv.slice(1));
      case 'catalog':
        return await (await import('./commands/catalog.js')).catalogCommand(argv.slice(1));
      case 'verify':
        return await (await import('./commands/verify.js')).verifyCommand(argv.slice(1));
      case 'restore':
        return await (await import('./commands/restore.js')).restoreCommand(argv.slice(1));
      case 'drill':
        return await (await import('./commands/drill.js')).drillCommand(argv.slice(1));
      case 'drill-report':
        return await (await import('./commands/drill.js')).drillReportCommand(argv.slice(1));
      case 'drills':
        return await (await import('./commands/drill.js')).drillsCommand(argv.slice(1));
      case 'train':
        return await (await import('./commands/train.js')).trainCommand(argv.slice(1));
      case 'binlog-sync':
        return await (await import('./commands/binlog.js')).binlogSyncCommand(argv.slice(1));
      case 'window':
        return await (await import('./commands/window.js')).windowCommand(argv.slice(1));
      case 'archiving':
        return await (await import('./commands/archiving.js')).archivingCommand(argv.slice(1));
      case 'sandbox':
        return await (await import('./commands/sandbox.js')).sandboxCommand(argv.slice(1));
      case 'health':
        return await (await import('./commands/health.js')).healthCommand(argv.slice(1));
      case 'policy':
        return await (await import('./commands/policy.js')).policyCommand(argv.slice(1));
      case 'tick':
        return await (await import('./commands/tick.js')).tickCommand(argv.slice(1));
      case 'prune':
        return await (await import('./commands/prune.js')).pruneCommand(argv.slice(1));
      case 'plan':
        return await (await import('./commands/plan.js')).planCommand(argv.slice(1));
      case 'schedule':
        return await (await import('./commands/schedule.js')).scheduleCommand(argv.slice(1));
      default: {
        const { usage } = await import('../errors.js');
        throw usage(`Unknown command "${first}"; run dbdrill --help for the list of commands.`);
      }
    }
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
