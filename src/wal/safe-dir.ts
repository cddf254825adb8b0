import { closeSync, constants, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Directories of the archive opened so that nothing inside them can redirect a read or a write
 * elsewhere. The server's user owns wal/ and could plant `wal/00000001 -> /etc`; a push run as root
 * must not follow it. Each level is opened with O_NOFOLLOW, and files inside are named through
 * /proc/self/fd/<dirfd>/<name>, which resolves to the directory already opened (the effect of
 * openat(2), which Node lacks): swapping a directory for a symlink after the check changes nothing.
 * Without /proc, paths are used and each level's realpath is checked instead.
 */
const PROC_FD = existsSync('/proc/self/fd');
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/**
 * Linux O_PATH (Node does not export it): a handle on a directory this user may only enter, not
 * list, which is how the server's user sees a repository root (0711). It cannot be fsynced.
 */
const O_PATH = process.platform === 'linux' ? 0o10000000 : 0;

/** Why a directory cannot be used: its errno, and the sentence fragment for it. */
export class UnsafePath extends Error {
  constructor(readonly path: string, readonly code: string, message: string) {
    super(message);
  }
}

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'EIO';
}

/** The sentence fragment for a path that failed to open with `code`. */
export function describeFailure(path: string, code: string, what = 'directory'): string {
  if (code === 'ELOOP' || code === 'ENOTDIR') {
    let link = false;
    try {
      link = lstatSync(path).isSymbolicLink();
    } catch {
      // gone meanwhile: describe by the code
    }
    if (link || code === 'ELOOP') return `${path} is a symbolic link, which dbdrill never follows inside the archive`;
    return `${path} is not a ${what}`;
  }
  if (code === 'ENOENT') return `${path} does not exist`;
  if (code === 'EACCES' || code === 'EPERM') return `${path} cannot be opened by this user (${code})`;
  return `${path} cannot be opened (${code})`;
}

export class Dir {
  private constructor(
    /** For messages and the no-/proc fallback. */
    readonly path: string,
    readonly fd: number,
    private readonly real: string,
    /** False for an O_PATH handle: enterable, but not listable or fsyncable. */
    readonly readable = true,
  ) {}

  /** The repository root: its own path may go through symlinks (the operator chose it). */
  static openRoot(path: string): Dir {
    let real: string;
    try {
      real = realpathSync(path);
    } catch (e) {
      throw new UnsafePath(path, errnoOf(e), describeFailure(path, errnoOf(e)));
    }
    try {
      return new Dir(path, openSync(real, DIR_FLAGS), real);
    } catch (e) {
      if (errnoOf(e) === 'EACCES' && O_PATH && PROC_FD) {
        try {
          return new Dir(path, openSync(real, O_PATH | constants.O_DIRECTORY), real, false);
        } catch {
          // report the first error
        }
      }
      throw new UnsafePath(path, errnoOf(e), describeFailure(path, errnoOf(e)));
    }
  }

  /** A path for `name` inside exactly this directory. */
  at(name: string): string {
    return PROC_FD ? `/proc/self/fd/${this.fd}/${name}` : join(this.real, name);
  }

  /**
   * A subdirectory, never through a symlink. With create it is made first when missing (mkdir
   * never follows a symlink) and this directory fsynced so the new entry survives a crash.
   */
  child(name: string, opts: { create?: boolean; onCreate?: (path: string) => void } = {}): Dir {
    const display = join(this.path, name);
    if (opts.create) {
      try {
        mkdirSync(this.at(name), { mode: 0o700 });
        opts.onCreate?.(this.at(name));
        if (this.readable) fsyncSync(this.fd);
      } catch (e) {
        const code = errnoOf(e);
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOSPC') throw new UnsafePath(display, code, `${display} cannot be created by this user (${code})`);
        if (code !== 'EEXIST') throw new UnsafePath(display, code, describeFailure(display, code));
      }
    }
    let fd: number;
    try {
      fd = openSync(this.at(name), DIR_FLAGS);
    } catch (e) {
      throw new UnsafePath(display, errnoOf(e), describeFailure(display, errnoOf(e)));
    }
    const real = join(this.real, name);
    if (!PROC_FD) {
      let resolved = '';
      try {
        resolved = realpathSync(real);
      } catch {
        // checked below
      }
      if (resolved !== real) {
        closeSync(fd);
        throw new UnsafePath(display, 'ELOOP', describeFailure(display, 'ELOOP'));
      }
    }
    return new Dir(display, fd, real);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Flags to open a file inside the archive for reading: no symlink, and a planted FIFO cannot block. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Flags to create a temp file inside the archive: new, never through a symlink (read back to be hashed). */
export const CREATE_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
