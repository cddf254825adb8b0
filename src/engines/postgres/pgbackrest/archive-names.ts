/**
 * `<seg>-<sha1>[.ext]`: a segment as archive-push stores it (the checksum is of the plain segment).
 * Apart from archive.ts so that wal-fetch (restore_command) can list the archive without loading
 * what runs pgBackRest.
 */
const STORED_SEGMENT = /^([0-9A-F]{24})-[0-9a-f]{40}(?:\.[a-z0-9]+)?$/;

/** The segment a pgBackRest archive entry holds, or undefined (.backup, .partial, history and anything else). */
export function storedSegment(entry: string): string | undefined {
  return STORED_SEGMENT.exec(entry)?.[1];
}
