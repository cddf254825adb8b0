import type { Target } from '../../config/target.js';
import { resolvePassword } from '../../config/password.js';
import type { Secret } from '../../runner/secrets.js';

/**
 * Connection flags for the MySQL/MariaDB client tools: never a password (the runner hands it over
 * in a 0600 --defaults-extra-file). --protocol=TCP keeps "localhost" meaning what it means to the
 * mysql2 driver (a TCP connection); the tools would otherwise look for a Unix socket instead.
 */
export function myConnArgs(target: Target): string[] {
  return [`--host=${target.host}`, `--port=${target.port}`, `--user=${target.user}`, '--protocol=TCP'];
}

export function mySecret(target: Target): Secret | undefined {
  const password = resolvePassword(target);
  return password === undefined ? undefined : { kind: 'mysql', password };
}

/** Quotes an identifier for MySQL/MariaDB (backticks, doubled inside). */
export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** Hosts on which a server's data directory is this machine's (mariadb-backup reads it directly). */
export function isLocalHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}
