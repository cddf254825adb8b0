import { DbdrillError, isDbdrillError } from '../errors.js';
import { runTool } from '../runner/run.js';
import { findTool } from '../runner/tools.js';
import { decryptFailure, encryptArgs } from './age-args.js';

export { decryptFailure, encryptArgs };

/**
 * Encryption at rest with age (https://age-encryption.org): to public keys only (recipients),
 * so the machine that makes copies never needs a private key. Decryption takes an identity FILE
 * by path (`age -d -i FILE`): its content never reaches argv, a log or a screen.
 */
export async function encryptFile(src: string, out: string, recipients: string[], signal?: AbortSignal): Promise<void> {
  const tool = await findTool('age');
  await runTool({ tool, args: encryptArgs(recipients, out), stdin: { file: src }, stdout: 'ignore', signal });
}


/** Decrypts `src` into `out`; one sentence when the identity does not open it. */
export async function decryptFile(src: string, out: string, identity: string, what: string, signal?: AbortSignal): Promise<void> {
  const tool = await findTool('age');
  try {
    await runTool({ tool, args: ['-d', '-i', identity, '-o', out, src], stdout: 'ignore', signal });
  } catch (e) {
    if (isDbdrillError(e) && e.code === 'tool-failed') {
      const why = decryptFailure(e.message, identity);
      throw new DbdrillError('failed', `${what} could not be decrypted: ${why}; give --identity with the private key matching the target's --encrypt-to recipient.`);
    }
    throw e;
  }
}
