import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { ENCRYPTION_FILE } from './encryption-file.js';
import { join } from 'node:path';
import type { Engine } from '../config/target.js';
import { DbdrillError, invalid } from '../errors.js';
import { readJsonFile } from '../util/untrusted-file.js';
import { fsyncDir, writeFileAtomic } from './atomic.js';
import { repoPathProblem } from './repo-path.js';
import { backupId, ID_RE, type BackupKind, type BackupType, type Manifest } from './manifest.js';
import { parseManifest } from './manifest-schema.js';
import { parseRepoFile, type RepoFile } from './repo-file.js';

/**
 * A target's repository: a directory that describes itself (repo.json) and holds one folder per
 * backup with its manifest. Any operator on any host reads the same catalog from it.
 */
export class Repository {
  constructor(readonly root: string) {}

  get backupsDir(): string {
    return join(this.root, 'backups');
  }

  backupDir(id: string): string {
    return join(this.backupsDir, id);
  }

  /** Creates the layout on first use, or checks that an existing one belongs to this target. */
  ensure(target: { name: string; engine: Engine; encryptTo?: readonly string[] }, systemId?: string): RepoFile {
    this.#checkRoot();
    const file = join(this.root, 'repo.json');
    if (existsSync(file)) {
      const repo = this.#readRepoFile(file);
      if (repo.engine !== target.engine || repo.target !== target.name) {
        throw new DbdrillError(
          'invalid-input',
          `The repository ${this.root} belongs to target "${repo.target}" (${repo.engine}), not "${target.name}"; give this target its own --repo.`,
        );
      }
      if (systemId && repo.systemId && repo.systemId !== systemId) {
        throw new DbdrillError(
          'invalid-input',
          `The repository ${this.root} holds backups of another server (system id ${repo.systemId}, this one is ${systemId}); give this server its own --repo.`,
        );
      }
      this.recordEncryption(target.encryptTo);
      return repo;
    }
    mkdirSync(this.backupsDir, { recursive: true, mode: 0o700 });
    const repo: RepoFile = {
      format: 'dbdrill-repo',
      formatVersion: 1,
      engine: target.engine,
      target: target.name,
      ...(systemId ? { systemId } : {}),
      createdAt: new Date().toISOString(),
    };
    writeFileAtomic(file, `${JSON.stringify(repo, null, 2)}\n`);
    this.recordEncryption(target.encryptTo);
    return repo;
  }

  /**
   * Keeps <repo>/encryption.json equal to the target's --encrypt-to (public keys only). wal-push
   * runs as the server's user and knows only --repo; repo.json is root's 0600 file, so the
   * recipients live in their own world-readable file that it can read.
   */
  recordEncryption(encryptTo: readonly string[] | undefined): void {
    const file = join(this.root, ENCRYPTION_FILE);
    const want = encryptTo?.length ? `${JSON.stringify({ with: 'age', recipients: [...encryptTo] }, null, 2)}\n` : undefined;
    const have = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (have === want) return;
    if (want === undefined) rmSync(file, { force: true });
    else {
      writeFileAtomic(file, want, 0o644);
      // Whatever the umask: the server's user must read it.
      chmodSync(file, 0o644);
    }
  }

  info(): RepoFile | undefined {
    this.#checkRoot();
    const file = join(this.root, 'repo.json');
    return existsSync(file) ? this.#readRepoFile(file) : undefined;
  }

  #checkRoot(): void {
    const problem = repoPathProblem(this.root);
    if (problem) throw new DbdrillError('invalid-input', problem, { repo: this.root });
  }

  #readRepoFile(file: string): RepoFile {
    const raw = readJsonFile(file);
    if (raw === undefined) throw invalid(`${file} disappeared while it was read; run the command again.`);
    return parseRepoFile(raw, file);
  }

  /** Reserves a new backup id (a fresh directory), moving one second on if the id is taken. */
  newBackup(kind: BackupKind, type: BackupType, at = new Date()): { id: string; dir: string } {
    mkdirSync(this.backupsDir, { recursive: true, mode: 0o700 });
    for (let i = 0; i < 600; i++) {
      const id = backupId(new Date(at.getTime() + i * 1000), kind, type);
      const dir = this.backupDir(id);
      try {
        mkdirSync(dir, { mode: 0o700 });
        return { id, dir };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    throw new DbdrillError('failed', `Could not reserve a backup id in ${this.backupsDir}; remove stale directories there.`);
  }

  writeManifest(m: Manifest): void {
    writeFileAtomic(join(this.backupDir(m.id), 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
  }

  readManifest(id: string): Manifest {
    if (!ID_RE.test(id)) throw invalid(`"${id}" is not a backup id (they look like 20261124T143000Z-F); list them with dbdrill catalog.`);
    const m = this.#manifestIn(id);
    if (!m) throw invalid(`There is no backup ${id} in ${this.root}; list them with dbdrill catalog.`);
    return m;
  }

  /** The checked manifest of backup directory `id`; undefined when it has none. */
  #manifestIn(id: string): Manifest | undefined {
    const file = join(this.backupDir(id), 'manifest.json');
    const raw = readJsonFile(file);
    return raw === undefined ? undefined : parseManifest(raw, file, id);
  }

  /** All manifests, newest first. Unreadable ones are reported with their sentence, not skipped silently. */
  catalog(): { manifests: Manifest[]; unreadable: { id: string; error: string }[] } {
    let ids: string[];
    try {
      ids = readdirSync(this.backupsDir).filter((d) => ID_RE.test(d));
    } catch (e) {
      // Only a repository that does not exist yet holds no backups; a file in its place, or one
      // this user cannot read, is said as such (not "no backups yet").
      this.#checkRoot();
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { manifests: [], unreadable: [] };
      throw e;
    }
    ids.sort().reverse();
    const manifests: Manifest[] = [];
    const unreadable: { id: string; error: string }[] = [];
    for (const id of ids) {
      try {
        const m = this.#manifestIn(id);
        if (m) manifests.push(m);
        else unreadable.push({ id, error: `${join(this.backupDir(id), 'manifest.json')}: is missing (a backup that is just starting, or its manifest was removed).` });
      } catch (e) {
        unreadable.push({ id, error: (e as Error).message });
      }
    }
    return { manifests, unreadable };
  }

  /**
   * Moves a failed backup's partial data aside so nothing can mistake it for a backup, keeping
   * the manifest (marked failed) where the catalog finds it.
   */
  quarantine(id: string, keep: (name: string) => boolean = (n) => n === 'manifest.json'): void {
    const dir = this.backupDir(id);
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (!keep(name)) rmSync(join(dir, name), { recursive: true, force: true });
    }
    fsyncDir(dir);
  }
}
