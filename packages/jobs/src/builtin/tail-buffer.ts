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
    let buf = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.kept);
    let dropped = this.total - this.kept;
    if (dropped === 0) return buf.toString('utf8');
    let skip = 0;
    while (skip < 3 && skip < buf.length && ((buf[skip] as number) & 0xc0) === 0x80) skip++;
    buf = buf.subarray(skip);
    dropped += skip;
    return `[… ${dropped} bytes truncated …]\n${buf.toString('utf8')}`;
  }
}
