/**
 * The one stored form of an archived WAL file, `<name>.dbw`: a fixed-size plain-text header, then
 * the payload (the file itself, or it compressed). The header says what the payload must decode
 * to, so a reader can prove a copy intact while it streams it, and a copy or an encrypted file can
 * be checked from its stored bytes alone without decoding.
 *
 *   dbdrill-wal 1\n{"name":…,"bytes":…,"sha256":…,"encoding":[…],"storedBytes":…,"storedSha256":…}␠…␠\n
 *
 * 512 bytes in all, padded with spaces: the header is written last (pwrite at offset 0) once the
 * payload's size and checksum are known, so the placeholder and the real header have one size.
 */
export const DBW_HEADER_BYTES = 512;
const FIRST_LINE = 'dbdrill-wal 1\n';

/** How the payload is encoded, applied in order when writing (later: "age" after "zstd"). */
export type Encoding = 'zstd' | 'age';
const ENCODINGS: readonly string[] = ['zstd', 'age'];

export interface DbwHeader {
  /** The WAL file name this is a copy of; a file renamed by hand no longer matches it. */
  name: string;
  /** The file as PostgreSQL handed it over. */
  bytes: number;
  sha256: string;
  encoding: Encoding[];
  /** The payload as stored after the header. */
  storedBytes: number;
  storedSha256: string;
}

const SHA_RE = /^[0-9a-f]{64}$/;

export function encodeDbwHeader(h: DbwHeader): Buffer {
  const json = JSON.stringify({ name: h.name, bytes: h.bytes, sha256: h.sha256, encoding: h.encoding, storedBytes: h.storedBytes, storedSha256: h.storedSha256 });
  const text = FIRST_LINE + json;
  // Names are at most 40 ASCII characters, so this never trips; it guards future fields.
  if (Buffer.byteLength(text) > DBW_HEADER_BYTES - 1) throw new Error(`the .dbw header of ${h.name} does not fit in ${DBW_HEADER_BYTES} bytes`);
  return Buffer.from(text.padEnd(DBW_HEADER_BYTES - 1, ' ') + '\n', 'utf8');
}

/** The placeholder written before the payload: the size of a header, recognisably unfinished. */
export function placeholderHeader(): Buffer {
  return Buffer.alloc(DBW_HEADER_BYTES, ' ');
}

/** The header of a stored file, or why these bytes are not one (a sentence fragment). */
export function decodeDbwHeader(buf: Buffer): DbwHeader | string {
  if (buf.length < DBW_HEADER_BYTES) return `it is ${buf.length} bytes, shorter than its ${DBW_HEADER_BYTES}-byte header`;
  const text = buf.subarray(0, DBW_HEADER_BYTES).toString('latin1');
  if (!text.startsWith(FIRST_LINE)) return 'it does not start with a dbdrill-wal 1 header (an unfinished or foreign file)';
  if (!text.endsWith('\n')) return 'its header is not terminated';
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text.slice(FIRST_LINE.length, -1).trimEnd()) as Record<string, unknown>;
  } catch {
    return 'its header is not valid JSON';
  }
  const count = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (typeof v.name !== 'string' || !count(v.bytes) || !count(v.storedBytes)) return 'its header lacks the name or sizes';
  if (typeof v.sha256 !== 'string' || !SHA_RE.test(v.sha256) || typeof v.storedSha256 !== 'string' || !SHA_RE.test(v.storedSha256)) return 'its header lacks the checksums';
  if (!Array.isArray(v.encoding) || !v.encoding.every((e) => typeof e === 'string')) return 'its header lacks the encoding';
  const unknown = (v.encoding as string[]).find((e) => !ENCODINGS.includes(e));
  if (unknown) return `it is encoded with "${unknown}", which this dbdrill cannot decode`;
  return {
    name: v.name,
    bytes: v.bytes as number,
    sha256: v.sha256,
    encoding: v.encoding as Encoding[],
    storedBytes: v.storedBytes as number,
    storedSha256: v.storedSha256,
  };
}
