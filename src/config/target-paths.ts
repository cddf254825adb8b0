import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { invalid } from '../errors.js';
import { repoPathProblem } from '../repo/repo-path.js';
import type { TargetInput } from './target.js';

/** The settings that are paths on this host. */
const PATH_FIELDS = ['repo', 'passwordFile'] as const;

/**
 * A target as typed (flags or the console's form) with its paths made absolute against the
 * working directory of the moment: stored relative, "relrepo" would mean another directory for
 * every command run elsewhere — and for archive_command, run by the server inside its data
 * directory, yet another.
 */
export function withAbsolutePaths(input: TargetInput, cwd = process.cwd()): TargetInput {
  const out = { ...input };
  for (const f of PATH_FIELDS) {
    const v = out[f];
    if (typeof v === 'string' && v.trim() !== '' && !/[\u0000-\u001f\u007f]/.test(v)) out[f] = resolve(cwd, v.trim());
  }
  return out;
}

/**
 * What only the file system can tell about a new or edited target: the repository is not a
 * file, the password file is one. Nothing is created here: the first backup creates the
 * repository.
 */
export function checkTargetPaths(t: { repo: string; passwordFile?: string | undefined }): void {
  const repoProblem = repoPathProblem(t.repo);
  if (repoProblem) throw invalid(repoProblem, { field: 'repo' });
  if (t.passwordFile !== undefined) {
    let st;
    try {
      st = statSync(t.passwordFile);
    } catch (e) {
      throw invalid(
        `The password file ${t.passwordFile} cannot be read (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (e as NodeJS.ErrnoException).code}); create it with the password on its first line (chmod 600) first, or fix the path.`,
        { field: 'passwordFile' },
      );
    }
    if (!st.isFile()) throw invalid(`The password file ${t.passwordFile} is not a regular file; give the path of a file whose first line is the password.`, { field: 'passwordFile' });
  }
}
