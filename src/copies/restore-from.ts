import { TargetStore } from '../config/store.js';
import { engineEntry, engineFor } from '../engines/registry.js';
import type { Target } from '../config/target.js';
import { serverAccount } from '../sandbox/users.js';
import { formatBytes } from '../util/bytes.js';
import { identityPath } from '../crypto/identity.js';
import { fetchCopy } from './fetch.js';
import { copyOf } from './send.js';

/**
 * `restore NAME --from COPY`: the copy fetched into a temp repository, every file checked (and
 * decrypted with the identity when the copy is encrypted); the WAL archive made readable to the
 * server's user, who runs wal-fetch against it as restore_command.
 */
export async function fetchForRestore(configDir: string, name: string, copy: string, identity: string | undefined, log: (l: string) => void, signal?: AbortSignal) {
  return fetchTargetCopy(new TargetStore(configDir).get(name), copy, identity, log, signal);
}

/** The same for a target already read (a drill fetches inside its own timed step). */
export async function fetchTargetCopy(target: Target, copy: string, identity: string | undefined, log: (l: string) => void, signal?: AbortSignal) {
  const spec = copyOf(target, copy);
  const reader = engineEntry(target.engine).archiveReader;
  const owner = reader ? serverAccount(reader) : undefined;
  const f = await fetchCopy(target, spec, { identity: identityPath(identity), signal, log, ...(owner ? { owner } : {}) });
  try {
    // A method whose tool keeps its own repository (pgBackRest) is pointed at the fetched one.
    await (await engineFor(target)).methodOf(target).fromCopy?.(target, f.repo, owner);
  } catch (e) {
    f.cleanup();
    throw e;
  }
  log(`OK fetched copy ${copy}: ${f.files} file(s), ${formatBytes(f.bytes)} in ${f.seconds.toFixed(1)} s, each checked against the copy's sha256`);
  return { ...f, copy };
}
