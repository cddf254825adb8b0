import { statSync } from 'node:fs';

/**
 * Why a repository path cannot hold a repository as it stands, or undefined when it can (or does
 * not exist yet: the first backup creates it). Shared by `target add` (refused up front) and the
 * readers of a repository, so a file where the repository should be is named, never read as
 * "no backups yet".
 */
export function repoPathProblem(repo: string): string | undefined {
  let st;
  try {
    st = statSync(repo);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') return `The repository path ${repo} runs through a file, not a directory; give the target a directory for its repository.`;
    if (code === 'EACCES') return `The repository ${repo} cannot be reached by ${process.getuid?.() === 0 ? 'root' : `uid ${process.getuid?.()}`} (permission denied on a directory above it); give that user access or run dbdrill as one that has it.`;
    return `The repository path ${repo} cannot be inspected (${code ?? (e as Error).message}).`;
  }
  if (!st.isDirectory()) return `The repository path ${repo} is a file, not a directory; move the file away or give the target a directory for its repository.`;
  return undefined;
}
