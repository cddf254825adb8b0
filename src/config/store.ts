import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Conf from 'conf';
import { DbdrillError, invalid } from '../errors.js';
import { checkFormat, damaged, describeValue, unreadable } from '../util/untrusted-file.js';
import { validateTarget, type Target, type TargetInput } from './target.js';

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
    mkdirSync(dir, { recursive: true, mode: 0o700 });
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
      if ((e as NodeJS.ErrnoException).code === 'EISDIR' || (e as NodeJS.ErrnoException).code === 'EACCES') throw unreadable(join(dir, 'config.json'), e);
      throw invalid(
        `The config file ${join(dir, 'config.json')} cannot be read (${(e as Error).message}); fix the JSON or move the file away.`,
      );
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
    const target = validateTarget(input);
    const raw = this.#conf.get('targets') ?? {};
    if (Object.prototype.hasOwnProperty.call(raw, target.name)) {
      throw new DbdrillError(
        'duplicate-target',
        `A target named "${target.name}" already exists; pick another name or remove it first with dbdrill target remove ${target.name}.`,
        { target: target.name },
      );
    }
    this.#conf.set('targets', { ...raw, [target.name]: stripName(target) });
    return target;
  }

  /** Replaces an existing target's settings (the console's edit form). */
  update(name: string, input: TargetInput): Target {
    this.get(name);
    const target = validateTarget({ ...input, name });
    const raw = { ...(this.#conf.get('targets') ?? {}) };
    raw[name] = stripName(target);
    this.#conf.set('targets', raw);
    return target;
  }

  remove(name: string): Target {
    const target = this.get(name);
    const raw = { ...(this.#conf.get('targets') ?? {}) };
    delete raw[name];
    this.#conf.set('targets', raw);
    return target;
  }
}

function stripName(t: Target): TargetInput {
  const { name: _name, ...rest } = t;
  return rest;
}
