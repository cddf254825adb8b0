/**
 * The first and last bytes of a stream as it passes, for a dump's head and tail lines when the
 * dump itself is stored encrypted (it cannot be read back from the file without the key).
 */
export class StreamEnds {
  #head: Buffer[] = [];
  #headLen = 0;
  #tail = Buffer.alloc(0);
  constructor(readonly bytes = 16 * 1024) {}
  push(chunk: Buffer): void {
    if (this.#headLen < this.bytes) {
      const part = chunk.subarray(0, this.bytes - this.#headLen);
      this.#head.push(Buffer.from(part));
      this.#headLen += part.length;
    }
    const joined = Buffer.concat([this.#tail, chunk]);
    this.#tail = Buffer.from(joined.subarray(Math.max(0, joined.length - this.bytes)));
  }
  get head(): string {
    return Buffer.concat(this.#head).toString('utf8');
  }
  get tail(): string {
    return this.#tail.toString('utf8');
  }
}
