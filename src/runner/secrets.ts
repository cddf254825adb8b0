import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * How a child learns a password without it reaching argv: PostgreSQL tools read PGPASSWORD from
 * their own environment; MySQL/MariaDB tools read a 0600 option file named by
 * --defaults-extra-file, which must be their first argument and is deleted when they exit.
 */
export type Secret = { kind: 'pg'; password: string } | { kind: 'mysql'; password: string };

export interface PreparedSecret {
  env: Record<string, string>;
  argsBefore: string[];
  cleanup(): void;
}

export function prepareSecret(secret: Secret | undefined, owner?: { uid?: number; gid?: number }): PreparedSecret {
  if (!secret) return { env: {}, argsBefore: [], cleanup: () => {} };
  if (secret.kind === 'pg') return { env: { PGPASSWORD: secret.password }, argsBefore: [], cleanup: () => {} };

  const dir = mkdtempSync(join(tmpdir(), 'dbdrill-secret-'));
  const file = join(dir, 'client.cnf');
  writeFileSync(file, `[client]\npassword="${escapeOptionValue(secret.password)}"\n`, { mode: 0o600 });
  if (owner?.uid !== undefined) {
    chownSync(dir, owner.uid, owner.gid ?? -1);
    chownSync(file, owner.uid, owner.gid ?? -1);
  }
  return {
    env: {},
    argsBefore: [`--defaults-extra-file=${file}`],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** MySQL option files take double-quoted values with backslash escapes. */
function escapeOptionValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
