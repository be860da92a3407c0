/**
 * The tail of `buf` (what is left of a longer UTF-8 text after `dropped`
 * bytes were cut from its front), after the line `[… N bytes truncated …]`;
 * the tail starts on a character boundary (partial bytes count as dropped).
 */
function markedTail(buf: Buffer, dropped: number): string {
  let skip = 0;
  while (skip < 3 && skip < buf.length && ((buf[skip] as number) & 0xc0) === 0x80) skip++;
  return `[… ${dropped + skip} bytes truncated …]\n${buf.toString('utf8', skip)}`;
}

/**
 * `text` when it is at most `maxBytes` bytes of UTF-8, else its last
 * `maxBytes` bytes in the format of TailBuffer.text(): a first line
 * `[… N bytes truncated …]`, then the tail from a character boundary.
 */
export function truncateTail(text: string, maxBytes: number): string {
  const limit = Math.max(0, Math.floor(maxBytes));
  // A UTF-16 unit is at most 3 bytes of UTF-8: most texts need no byte count.
  if (text.length * 3 <= limit) return text;
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= limit) return text;
  // Every unit is at least one byte, so the last `limit` units hold the last `limit` bytes:
  // only those are encoded. Not from the second half of a surrogate pair (a lone one would become U+FFFD).
  let from = Math.max(0, text.length - limit);
  const c = text.charCodeAt(from);
  if (from > 0 && c >= 0xdc00 && c <= 0xdfff) from--;
  const buf = Buffer.from(from === 0 ? text : text.slice(from), 'utf8');
  return markedTail(buf.subarray(buf.length - limit), total - limit);
}

/** Keeps the last `limit` bytes of a stream and counts what it dropped. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  /** All bytes pushed, kept or not. */
  total = 0;

  constructor(readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.limit <= 0 || chunk.length === 0) return;
    if (chunk.length >= this.limit) {
      this.chunks = [chunk.subarray(chunk.length - this.limit)];
      this.kept = this.limit;
      return;
    }
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept > this.limit) {
      const first = this.chunks[0] as Buffer;
      const excess = this.kept - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.kept -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.kept -= excess;
      }
    }
  }

  /**
   * The kept bytes as UTF-8. When bytes were dropped, a first line
   * `[… N bytes truncated …]` says how many, and the tail starts on a
   * character boundary.
   */
  text(): string {
    const buf = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.kept);
    const dropped = this.total - this.kept;
    return dropped === 0 ? buf.toString('utf8') : markedTail(buf, dropped);
  }
}
