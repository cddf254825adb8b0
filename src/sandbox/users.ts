import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DbdrillError } from '../errors.js';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * The system account a server runs as. PostgreSQL refuses to run as root and MariaDB needs
 * --user, so as root the sandbox belongs to the distribution's postgres/mysql user; as anyone
 * else it simply belongs to the caller (undefined: no switch needed).
 */
export function serverAccount(name: 'postgres' | 'mysql'): Account | undefined {
  if (!isRoot()) return undefined;
  const found = lookupUser(name);
  if (!found) {
    throw new DbdrillError(
      'sandbox',
      `The ${name} system user does not exist, and the server refuses to run as root; create it with "useradd --system ${name}" or run dbdrill as an ordinary user.`,
      { user: name },
    );
  }
  return found;
}

/** Reads /etc/passwd; NSS sources such as LDAP are not consulted (system users are local). */
export function lookupUser(name: string): Account | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** URL-safe, so it needs no quoting in connection strings, option files or SQL literals. */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}
