/**
 * age's command lines and its failures in words, free of the runner so that wal-push and
 * wal-fetch (one Node start per segment) load nothing heavy to use them.
 */

/** `age -e -r R… [-o OUT]`: public keys only on argv (they are not secret). */
export function encryptArgs(recipients: readonly string[], out?: string): string[] {
  return ['-e', ...recipients.flatMap((r) => ['-r', r]), ...(out ? ['-o', out] : [])];
}

/** Why age could not decrypt, from its own words (a fragment for "… could not be decrypted: WHY"). */
export function decryptFailure(message: string, identity: string): string {
  return /no identity matched/i.test(message)
    ? `the identity ${identity} is not one of the keys it was encrypted to`
    : /header|armor|checksum|authentication|decrypt|truncated|unexpected EOF/i.test(message)
      ? `it is damaged (${message.replace(/^age exited with code \d+: /, '').replace(/\.$/, '')})`
      : message.replace(/\.$/, '');
}
