export const HELP = `dbdrill — backups, point-in-time restores and restore drills for PostgreSQL and MySQL/MariaDB

Usage:
  dbdrill                                  open the console (headless target list when not a terminal)
  dbdrill target add NAME --engine postgres|mysql --host H --port P --user U --dbname D --repo DIR
                     [--password-env VAR | --password-file FILE] [--rto 4h] [--rpo 15m]
  dbdrill target list | show NAME | remove NAME | test NAME
  dbdrill backup NAME --kind logical|physical [--jobs N] [--checkpoint fast|spread]
  dbdrill catalog NAME                     backups, newest first
  dbdrill verify NAME [--backup ID] [--restore]
  dbdrill restore NAME [--backup ID] --dbname NEWDB [--table T] [--jobs N]          (logical)
  dbdrill restore NAME --to TIME|latest [--lsn L|--xid X|--name N] [--exclusive]
                  [--timeline T] [--backup ID] --into DIR --port P [--dry-run]      (point in time)
  dbdrill restore NAME --gtid G|--position FILE:POS [--backup ID] --into DIR --port P  (MySQL/MariaDB)
  dbdrill restore NAME --backup ID --into DIR --port P     a MySQL/MariaDB backup as it was taken
  dbdrill window NAME                      recoverable window: from, to, gaps
  dbdrill archiving enable NAME [--apply] [--compress zstd|none]
                                           ALTER SYSTEM statements for WAL archiving with wal-push
  dbdrill wal-push NAME|--repo DIR [--compress zstd] [--allow-root] %p   archive_command
  dbdrill wal-fetch NAME|--repo DIR %f %p  restore_command
  dbdrill binlog-sync NAME [--rotate] [--verify]  copy closed MySQL/MariaDB binlogs into the repository
  dbdrill drill NAME [--to TIME|latest] [--rto 4h] [--rpo 15m] [--keep]
  dbdrill drills NAME | drill-report NAME [ID]
  dbdrill health NAME [--watch] [--interval S] [--prom FILE]
  dbdrill sandbox start|stop|status [--engine postgres|mysql]
  dbdrill train NAME start --disaster drop-table|delete-rows|break-archiving
  dbdrill train NAME status | repair | score [--port P] | end     training on the sandbox
  dbdrill --version

Every command takes --json (one JSON document on stdout, logs on stderr) and --config DIR
(or DBDRILL_CONFIG_DIR). Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 warning, 4 critical.
Times: ISO 8601 with a zone (2026-11-24T14:30:00Z, 2026-11-24 15:30+01:00) or relative (-15m).
`;
