import type { Target } from '../../config/target.js';
import { resolvePassword } from '../../config/password.js';
import type { Secret } from '../../runner/secrets.js';

/** libpq flags for a target: never a password (that goes in the child's environment). */
export function pgConnArgs(target: Target): string[] {
  return ['--host', target.host, '--port', String(target.port), '--username', target.user, '--no-password'];
}

export function pgSecret(target: Target): Secret | undefined {
  const password = resolvePassword(target);
  return password === undefined ? undefined : { kind: 'pg', password };
}
