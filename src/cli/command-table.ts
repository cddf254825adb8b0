/**
 * Every headless command in one table: the word that runs it, how it is written (each form a
 * usage line) and what it does. `dbdrill --help`, `dbdrill COMMAND --help`, the usage lines in
 * error sentences, "did you mean" and the dispatch in main.ts all read it, so they cannot drift.
 * It imports nothing: `dbdrill wal-push`, run by PostgreSQL for every WAL segment, loads it too.
 */
export type CommandRun = (argv: string[]) => Promise<number>;

export interface UsageForm {
  /** The subcommand this form belongs to (`target add`), when the command has several. */
  sub?: string;
  /** Everything after `dbdrill `. */
  line: string;
  /** What this form does, in a few words. */
  summary: string;
}

export interface CommandSpec {
  name: string;
  forms: UsageForm[];
  /** Other words that run it (`ls` for `target list` lives in the sub list instead). */
  aliases?: string[];
  /** Subcommand aliases: `rm` → `remove`. */
  subAliases?: Record<string, string>;
  /**
   * Where the command's code is: main.ts imports `./commands/<module>.js` on demand and calls
   * its export `fn`. Named, not imported here, so the table (which every command reads for its
   * usage line) depends on no command and loading it loads nothing else.
   */
  run: { module: string; fn: string };
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'target',
    subAliases: { ls: 'list', rm: 'remove' },
    forms: [
      {
        sub: 'add',
        line: 'target add NAME --engine postgres|mysql --host H --port P --user U --dbname D --repo DIR [--password-env VAR | --password-file FILE] [--rto 4h] [--rpo 15m] [--method native|pgbackrest [--process-max N] [--checkpoint fast|spread]] [--cipher-pass-file F | --cipher-pass-env VAR] [--encrypt-to RECIPIENT]',
        summary: 'a database to protect',
      },
      { sub: 'list', line: 'target list', summary: 'the targets' },
      { sub: 'show', line: 'target show NAME', summary: "a target's settings" },
      { sub: 'remove', line: 'target remove NAME', summary: 'forget it (the repository stays)' },
      { sub: 'test', line: 'target test NAME', summary: 'connect, check archiving, privileges' },
      { sub: 'copy-add', line: 'target copy-add NAME COPY --dest DIR|REMOTE:PATH [--offsite] [--rclone-config FILE] [--keep-full N]', summary: 'a copy on other media (3-2-1)' },
      { sub: 'copy-remove', line: 'target copy-remove NAME COPY', summary: 'forget a copy (its files stay)' },
      { sub: 'edit', line: 'target edit NAME --encrypt-to RECIPIENT|off', summary: 'encrypt the repository and its copies with age (public key, repeatable)' },
      { sub: 'edit', line: 'target edit NAME --method native|pgbackrest [--process-max N] [--checkpoint fast|spread] [--cipher-pass-file F | --cipher-pass-env VAR]', summary: 'how backups are taken (pgBackRest: conf, stanza)' },
    ],
    run: { module: 'target', fn: 'targetCommand' },
  },
  {
    name: 'backup',
    forms: [
      {
        line: 'backup NAME --kind logical|physical [--jobs N] [--checkpoint fast|spread] [--type full|diff|incr] [--digests]',
        summary: 'take a backup (--type alone means --kind physical)',
      },
    ],
    run: { module: 'backup', fn: 'backupCommand' },
  },
  {
    name: 'copy',
    forms: [
      { line: 'copy NAME [--backup ID] [--to COPY]', summary: 'send backups and the archive to copies, verified' },
      { line: 'copy NAME --verify [--to COPY] [--identity FILE]', summary: 'check every file on the copies' },
    ],
    run: { module: 'copy', fn: 'copyCommand' },
  },
  {
    name: 'catalog',
    forms: [{ line: 'catalog NAME', summary: 'backups, newest first' }],
    run: { module: 'catalog', fn: 'catalogCommand' },
  },
  {
    name: 'verify',
    forms: [
      { line: 'verify NAME [--from COPY] [--identity FILE]', summary: 'every backup, chain link and archived file' },
      { line: 'verify NAME --backup ID [--restore] [--from COPY] [--identity FILE]', summary: 'one backup: checksums, tool check, restore' },
      { line: 'verify NAME --restore', summary: 'the newest backup, restored' },
    ],
    run: { module: 'verify', fn: 'verifyCommand' },
  },
  {
    name: 'restore',
    forms: [
      { line: 'restore NAME [--backup ID] --dbname NEWDB [--table T] [--jobs N] [--from COPY] [--identity FILE]', summary: 'logical, into a new database' },
      {
        line: 'restore NAME --to TIME|latest [--lsn L | --xid X | --name N] [--exclusive] [--timeline T] [--backup ID] [--from COPY] [--identity FILE] --into DIR --port P [--dry-run]',
        summary: 'to a point in time',
      },
      {
        line: 'restore NAME --to TIME [--second inclusive|exclusive] | --gtid G | --position FILE:POS [--backup ID] [--from COPY] [--identity FILE] --into DIR --port P [--dry-run]',
        summary: 'MySQL/MariaDB: to a time, GTID or position',
      },
      { line: 'restore NAME --backup ID [--from COPY] [--identity FILE] --into DIR --port P [--dry-run]', summary: 'as the backup was taken' },
    ],
    run: { module: 'restore', fn: 'restoreCommand' },
  },
  {
    name: 'window',
    forms: [{ line: 'window NAME', summary: 'recoverable window: from, to, gaps' }],
    run: { module: 'window', fn: 'windowCommand' },
  },
  {
    name: 'archiving',
    forms: [
      {
        sub: 'enable',
        line: 'archiving enable NAME [--apply] [--archive-timeout 60s] [--compress zstd|none] [--batch on|off]',
        summary: 'set up WAL archiving with wal-push',
      },
    ],
    run: { module: 'archiving', fn: 'archivingCommand' },
  },
  {
    name: 'stream',
    forms: [
      { line: 'stream NAME [--synchronous]', summary: 'stream WAL into the repository (pg_receivewal, foreground)' },
      { line: 'stream NAME --install-systemd [--synchronous] [--apply [--dir DIR]]', summary: 'print or write its systemd unit' },
    ],
    run: { module: 'stream', fn: 'streamCommand' },
  },
  {
    name: 'wal-push',
    forms: [{ line: 'wal-push NAME|--repo DIR [--compress zstd] [--batch] [--allow-root] %p', summary: 'archive_command' }],
    run: { module: 'wal', fn: 'walPushCommand' },
  },
  {
    name: 'wal-fetch',
    forms: [{ line: 'wal-fetch NAME|--repo DIR [--pgbackrest-archive DIR] %f %p', summary: 'restore_command' }],
    run: { module: 'wal', fn: 'walFetchCommand' },
  },
  {
    name: 'binlog-sync',
    forms: [{ line: 'binlog-sync NAME [--rotate] [--verify]', summary: 'archive closed binlogs' }],
    run: { module: 'binlog', fn: 'binlogSyncCommand' },
  },
  {
    name: 'drill',
    forms: [
      {
        line: 'drill NAME [--to TIME|latest] [--second inclusive|exclusive] [--backup ID] [--rto 4h] [--rpo 15m] [--keep] [--from COPY] [--identity FILE]',
        summary: 'restore drill: verify, RTO, RPO',
      },
    ],
    run: { module: 'drill', fn: 'drillCommand' },
  },
  {
    name: 'drills',
    forms: [{ line: 'drills NAME', summary: 'drill history' }],
    run: { module: 'drill', fn: 'drillsCommand' },
  },
  {
    name: 'drill-report',
    forms: [{ line: 'drill-report NAME [ID]', summary: 'a drill report (Markdown)' }],
    run: { module: 'drill', fn: 'drillReportCommand' },
  },
  {
    name: 'health',
    forms: [{ line: 'health NAME [--watch] [--interval S] [--prom FILE]', summary: 'health, exit 0/3/4' }],
    run: { module: 'health', fn: 'healthCommand' },
  },
  {
    name: 'policy',
    forms: [
      {
        sub: 'set',
        line: 'policy set NAME [--full|--diff|--incr|--logical CRON|off] [--verify|--restore-verify|--drill CRON|off] [--keep-full N] [--keep-diff N] [--keep-days D] [--keep-archive D] [--gfs 7d,4w,12m,7y] [--rpo 15m] [--rto 4h] [--time-limit 24h]',
        summary: 'schedules, retention and objectives',
      },
      { sub: 'show', line: 'policy show NAME', summary: "the policy, its jobs' last and next runs (UTC)" },
    ],
    run: { module: 'policy', fn: 'policyCommand' },
  },
  {
    name: 'tick',
    forms: [{ line: 'tick [--wait]', summary: 'run what is due (cron/systemd, each minute)' }],
    run: { module: 'tick', fn: 'tickCommand' },
  },
  {
    name: 'schedule',
    forms: [{ sub: 'install', line: 'schedule install [--cron | --systemd] [--apply] [--dir DIR]', summary: 'the crontab line or timer units' }],
    run: { module: 'schedule', fn: 'scheduleCommand' },
  },
  {
    name: 'plan',
    forms: [{ line: 'plan NAME [--days N]', summary: 'next runs, repository size, RPO/RTO' }],
    run: { module: 'plan', fn: 'planCommand' },
  },
  {
    name: 'prune',
    forms: [{ line: 'prune NAME [--dry-run]', summary: 'remove what retention no longer keeps' }],
    run: { module: 'prune', fn: 'pruneCommand' },
  },
  {
    name: 'sandbox',
    forms: [
      { line: 'sandbox start|status [--engine postgres|mysql] [--port P] [--method native|pgbackrest]', summary: 'training sandbox' },
      { line: 'sandbox stop [--engine postgres|mysql] [--remove]', summary: 'stop it and its restores' },
    ],
    run: { module: 'sandbox', fn: 'sandboxCommand' },
  },
  {
    name: 'train',
    forms: [
      // The disasters are src/training/session.ts's DISASTER_KINDS (a test holds them equal):
      // importing that module here would load it for every wal-push.
      { line: 'train NAME start --disaster drop-table|delete-rows|break-archiving', summary: 'a disaster to recover from' },
      { line: 'train NAME status | repair | score [--port P] | end', summary: 'guide and score' },
    ],
    run: { module: 'train', fn: 'trainCommand' },
  },
  {
    name: 'console',
    forms: [{ line: '[console]', summary: 'the console (target list if no terminal)' }],
    run: { module: 'console', fn: 'consoleCommand' },
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

function spec(name: string): CommandSpec {
  const c = findCommand(name);
  if (!c) throw new Error(`no command "${name}" in the command table`);
  return c;
}

/** The forms of a command, or of one of its subcommands (aliases understood). */
export function formsOf(name: string, sub?: string): UsageForm[] {
  const c = spec(name);
  const real = sub === undefined ? undefined : (c.subAliases?.[sub] ?? sub);
  const forms = real === undefined ? c.forms : c.forms.filter((f) => f.sub === real);
  return forms.length > 0 ? forms : c.forms;
}

/** One line for error sentences: "dbdrill backup NAME --kind …", forms joined by " | ". */
export function usageLine(name: string, sub?: string): string {
  return formsOf(name, sub)
    .map((f) => `dbdrill ${f.line}`)
    .join('  |  ');
}

/** The subcommands a command has, in table order (empty when it has none). */
export function subcommandsOf(name: string): string[] {
  return [...new Set(spec(name).forms.flatMap((f) => (f.sub ? [f.sub] : [])))];
}
