import { readFileSync, statSync } from 'node:fs';
import { invalid } from '../errors.js';
import type { Target } from './target.js';

/**
 * The password for a target, read at the moment it is needed and never stored in the config:
 * from the environment variable the target names, or from a private file. Undefined means none is
 * configured (a .pgpass file or socket auth may still let the client in).
 */
export function resolvePassword(target: Target, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (target.password !== undefined) return target.password;
  if (target.passwordEnv) {
    const v = env[target.passwordEnv];
    if (v === undefined) {
      throw invalid(
        `Target "${target.name}" reads its password from $${target.passwordEnv}, which is not set; export ${target.passwordEnv} before running dbdrill.`,
      );
    }
    return v;
  }
  if (target.passwordFile) {
    let text: string;
    try {
      const st = statSync(target.passwordFile);
      if ((st.mode & 0o077) !== 0) {
        throw invalid(
          `The password file ${target.passwordFile} of target "${target.name}" is readable by others; run chmod 600 ${target.passwordFile}.`,
        );
      }
      text = readFileSync(target.passwordFile, 'utf8');
    } catch (e) {
      if ((e as { code?: string }).code === 'invalid-input') throw e;
      throw invalid(
        `The password file ${target.passwordFile} of target "${target.name}" cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); fix the path with dbdrill target add or restore the file.`,
      );
    }
    return text.split('\n')[0] ?? '';
  }
  return undefined;
}
