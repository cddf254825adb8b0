import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { runTool } from '../runner/run.js';
import { ENCRYPTION_FILE } from './encryption-file.js';
import type { Manifest } from './manifest.js';
import { finished } from 'node:stream/promises';
import { decryptFailure } from '../crypto/age.js';
import { repositoryIdentity } from '../crypto/identity.js';
import { DbdrillError, isDbdrillError } from '../errors.js';
import { filterStream } from '../runner/filter.js';
import { findTool } from '../runner/tools.js';
import type { FileSum } from './checksum.js';

export interface SealedRead {
  /** The plain bytes, hashed on their way to the consumer. */
  stream: Readable;
  /** After the consumer: age's verdict (one sentence naming the backup), then the plain sums'. */
  finish(): Promise<void>;
}

/** The restore cannot start: the backup is encrypted and no identity was given. */
export function noIdentity(backup: string): DbdrillError {
  return new DbdrillError('failed', `Backup ${backup} is encrypted with age; give --identity FILE (or DBDRILL_AGE_IDENTITY) with the private key matching the target's --encrypt-to recipient.`, { backup });
}

/**
 * The reading half of the encrypting sink (src/crypto/sealed.ts): `ciphertext` (already checked
 * against the stored sha256 as it streams) through `age -d -i IDENTITY`, the identity passed by
 * path only. A plain result that differs from the recorded plain sums fails the stream, so a tool
 * never takes a wrongly decrypted file for a good one.
 */
export async function openSealed(ciphertext: Readable, record: FileSum, backup: string, signal: AbortSignal): Promise<SealedRead> {
  const identity = repositoryIdentity();
  if (!identity) throw noIdentity(backup);
  const plain = record.plain!;
  const age = await findTool('age');
  const filter = filterStream({ tool: age, args: ['-d', '-i', identity] }, ciphertext, signal);
  const hash = createHash('sha256');
  let bytes = 0;
  let mismatch: string | undefined;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      const sha256 = hash.digest('hex');
      if (bytes !== plain.bytes || sha256 !== plain.sha256) {
        mismatch = `${record.path} decrypts to ${bytes} bytes with sha256 ${sha256}, not the ${plain.bytes} bytes with sha256 ${plain.sha256} recorded at backup time`;
        done(new DbdrillError('failed', `Backup ${backup} is corrupt: ${mismatch}.`, { backup }));
      } else done();
    },
  });
  filter.output.once('error', (e) => check.destroy(e));
  filter.output.pipe(check);
  return {
    stream: check,
    async finish() {
      // A tool may stop at its format's end marker: the rest is still decrypted and hashed.
      if (!check.readableEnded && !check.destroyed) {
        check.resume();
        await finished(check).catch(() => undefined);
      }
      try {
        await filter.done;
      } catch (e) {
        if (isDbdrillError(e) && e.code === 'tool-failed') {
          throw new DbdrillError('failed', `Backup ${backup} could not be decrypted: ${decryptFailure(e.message, identity)}; give --identity with the private key matching the target's --encrypt-to recipient.`, { backup, file: record.path });
        }
        throw e;
      }
      if (mismatch) throw new DbdrillError('failed', `Backup ${backup} is corrupt: ${mismatch}.`, { backup, file: record.path });
    },
  };
}

/**
 * Before a point-in-time restore or drill plans anything (the plan reads encrypted WAL): an
 * encrypted repository needs the identity, and the identity must open its newest encrypted
 * backup. age reads the header first, so a few KiB of the file tell "not one of its keys" apart
 * from a key that opens it (which then only runs out of input).
 */
export async function checkRepositoryKey(repoRoot: string, manifests: readonly Manifest[]): Promise<void> {
  const sealed = manifests.filter((m) => m.status === 'complete' && m.files.some((f) => f.plain)).sort((a, b) => (a.id < b.id ? 1 : -1));
  if (sealed.length === 0 && !existsSync(join(repoRoot, ENCRYPTION_FILE))) return;
  const identity = repositoryIdentity();
  if (!identity) {
    throw new DbdrillError('failed', `The repository ${repoRoot} is encrypted with age; give --identity FILE (or DBDRILL_AGE_IDENTITY) with the private key matching the target's --encrypt-to recipient.`);
  }
  const newest = sealed[0];
  if (!newest) return;
  const file = newest.files.find((f) => f.plain)!;
  const fd = openSync(join(repoRoot, 'backups', newest.id, file.path), 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(4096);
    head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
  const r = await runTool({ tool: await findTool('age'), args: ['-d', '-i', identity], stdin: { stream: Readable.from([head]) }, stdout: 'ignore', okExitCodes: [0, 1] });
  const said = r.stderrTail.join(' ');
  if (r.exitCode !== 0 && /no identity matched/i.test(said)) {
    throw new DbdrillError('failed', `Backup ${newest.id} could not be decrypted: ${decryptFailure(said, identity)}; give --identity with the private key matching the target's --encrypt-to recipient.`, { backup: newest.id });
  }
}
