import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Conf from './conf-lib.js';
import { DbdrillError, invalid } from '../errors.js';
import { checkFormat, damaged, describeValue } from '../util/untrusted-file.js';
import { validateTarget, type Target, type TargetInput } from './target.js';
import { checkTargetPaths, withAbsolutePaths } from './target-paths.js';

interface StoredConfig {
  version: 1;
  targets: Record<string, TargetInput>;
}

/**
 * The config file's shape, checked every time conf reads it: a file that is JSON but not a config
 * (a list, a newer version, targets that are not objects) is refused with one sentence rather than
 * read as "no targets", which the next `target add` would then write over. The targets' fields
 * are checked by validateTarget when they are used. Hand-written, not a schema: wal-push loads
 * this module for every WAL segment and must not pay for a schema library.
 */
function checkStoredConfig(raw: unknown, file: string): StoredConfig {
  const obj = checkFormat(raw, file, { what: 'the dbdrill config', versionKey: 'version', version: 1, versionOptional: true });
  const targets = obj.targets;
  if (targets === undefined) return obj as unknown as StoredConfig;
  if (typeof targets !== 'object' || targets === null || Array.isArray(targets)) {
    throw damaged(file, `targets must be an object holding each target by name, not ${describeValue(targets)}`);
  }
  for (const [name, t] of Object.entries(targets)) {
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw damaged(file, `targets.${name} must be an object (the target's settings), not ${describeValue(t)}`);
  }
  return obj as unknown as StoredConfig;
}

/**
 * The targets an operator has configured. Backed by `conf` (atomic writes) in a 0700 directory
 * with a 0600 file; every target is validated when read, so a hand-edited mistake is reported with
 * the field it concerns rather than surfacing later as a tool error.
 */
export class TargetStore {
  readonly dir: string;
  readonly #conf: Conf<StoredConfig>;

  constructor(dir: string) {
    this.dir = dir;
    prepareConfigDir(dir);
    try {
      this.#conf = new Conf<StoredConfig>({
        cwd: dir,
        configName: 'config',
        projectName: 'dbdrill',
        configFileMode: 0o600,
        clearInvalidConfig: false,
        accessPropertiesByDotNotation: false,
        defaults: { version: 1, targets: {} },
        deserialize: (text) => checkStoredConfig(JSON.parse(text), join(dir, 'config.json')),
      });
    } catch (e) {
      if (e instanceof DbdrillError) throw e;
      throw configFileError(join(dir, 'config.json'), e);
    }
  }

  /** Writes the targets; a config the caller may not write is one sentence, like a broken one. */
  #save(targets: StoredConfig['targets']): void {
    try {
      this.#conf.set('targets', targets);
    } catch (e) {
      throw configFileError(this.path, e);
    }
  }

  get path(): string {
    return this.#conf.path;
  }

  list(): Target[] {
    const raw = this.#conf.get('targets') ?? {};
    return Object.keys(raw)
      .sort()
      .map((name) => validateTarget({ ...raw[name], name }, `${this.path}: target "${name}"`));
  }

  find(name: string): Target | undefined {
    const raw = this.#conf.get('targets') ?? {};
    const entry = Object.prototype.hasOwnProperty.call(raw, name) ? raw[name] : undefined;
    return entry ? validateTarget({ ...entry, name }, `${this.path}: target "${name}"`) : undefined;
  }

  get(name: string): Target {
    const t = this.find(name);
    if (!t) {
      const known = Object.keys(this.#conf.get('targets') ?? {}).sort();
      const hint = known.length ? `known targets: ${known.join(', ')}` : 'no targets are configured yet; add one with dbdrill target add';
      throw new DbdrillError('unknown-target', `There is no target named "${name}" (${hint}).`, { target: name });
    }
    return t;
  }

  add(input: TargetInput): Target {
    const target = validateNew(input);
    const raw = this.#conf.get('targets') ?? {};
    if (Object.prototype.hasOwnProperty.call(raw, target.name)) {
      throw new DbdrillError(
        'duplicate-target',
        `A target named "${target.name}" already exists; pick another name or remove it first with dbdrill target remove ${target.name}.`,
        { target: target.name },
      );
    }
    this.#save({ ...raw, [target.name]: stripName(target) });
    return target;
  }

  /** Replaces an existing target's settings (the console's edit form). */
  update(name: string, input: TargetInput): Target {
    this.get(name);
    const target = validateNew({ ...input, name });
    const raw = { ...(this.#conf.get('targets') ?? {}) };
    raw[name] = stripName(target);
    this.#save(raw);
    return target;
  }

  remove(name: string): Target {
    const target = this.get(name);
    const raw = { ...(this.#conf.get('targets') ?? {}) };
    delete raw[name];
    this.#save(raw);
    return target;
  }
}

/** A target as typed, checked as a stored one is, plus what only adding can check: its paths on this host. */
function validateNew(input: TargetInput): Target {
  const target = validateTarget(withAbsolutePaths(input));
  checkTargetPaths(target);
  return target;
}

const whoAmI = () => (process.getuid?.() === 0 ? 'root' : `uid ${process.getuid?.() ?? '?'}`);
const HOW_TO_CHOOSE = 'give --config a directory of your own (or set DBDRILL_CONFIG_DIR)';

/** The config directory, created 0700 when missing; a file or a foreign directory in its way is one sentence. */
function prepareConfigDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw invalid(`The config directory ${dir} cannot be used: ${blockingFile(dir)} is a file, not a directory; move it away or ${HOW_TO_CHOOSE}.`);
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw invalid(`The config directory ${dir} cannot be created or entered by ${whoAmI()} (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}); ${HOW_TO_CHOOSE}.`);
    }
    throw e;
  }
}

/** The first part of `dir` (itself or a parent) that exists as something other than a directory. */
function blockingFile(dir: string): string {
  for (let p = dir; ; p = dirname(p)) {
    try {
      if (!statSync(p).isDirectory()) return p;
    } catch {
      // Not there (yet): look further up.
    }
    if (dirname(p) === p) return dir;
  }
}

/**
 * Why the config file could not be read or written, in one sentence: only a file that is there
 * and readable but not JSON gets "fix the JSON".
 */
function configFileError(file: string, e: unknown): DbdrillError {
  const err = e as NodeJS.ErrnoException;
  const dir = dirname(file);
  switch (err?.code) {
    case 'EACCES':
    case 'EPERM': {
      // conf writes through a temp file beside the config: then it is the directory that refuses.
      const inDir = typeof err.path === 'string' && err.path !== file;
      return invalid(
        inDir
          ? `The config directory ${dir} is not writable by ${whoAmI()} (permission denied); run dbdrill as the user who owns it, or ${HOW_TO_CHOOSE}.`
          : `The config file ${file} cannot be read by ${whoAmI()} (permission denied); run dbdrill as the user who owns it, or ${HOW_TO_CHOOSE}.`,
      );
    }
    case 'EROFS':
      return invalid(`The config directory ${dir} is on a read-only file system; ${HOW_TO_CHOOSE}.`);
    case 'EISDIR':
      return invalid(`The config file ${file} is a directory, not a file; move it away or ${HOW_TO_CHOOSE}.`);
    case 'ENOSPC':
    case 'EDQUOT':
      return invalid(`The config file ${file} cannot be written: no space left on its disk; free space there.`);
    default:
      return invalid(`The config file ${file} cannot be read (${(e as Error)?.message ?? String(e)}); fix the JSON or move the file away.`);
  }
}

function stripName(t: Target): TargetInput {
  const { name: _name, ...rest } = t;
  return rest;
}
