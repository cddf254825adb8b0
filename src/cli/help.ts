export const HELP = `dbdrill — backups, point-in-time restores and restore drills for PostgreSQL and MySQL/MariaDB

Usage:
  dbdrill                                  open the console (headless target list when not a terminal)
  dbdrill target add NAME --engine postgres|mysql --host H --port P --user U --dbname D --repo DIR
                     [--password-env VAR | --password-file FILE] [--rto 4h] [--rpo 15m]
  dbdrill target list | show NAME | remove NAME | test NAME
  dbdrill sandbox start|stop|status [--engine postgres|mysql]
  dbdrill --version

Every command takes --json (one JSON document on stdout, logs on stderr) and --config DIR
(or DBDRILL_CONFIG_DIR). Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 warning, 4 critical.
`;
