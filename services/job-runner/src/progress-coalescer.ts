/**
 * Progress is best effort and only the latest count of a chain matters: a
 * chain's newer value replaces the one not sent yet, and each report call
 * carries the latest value of every chain whose count moved.
 */
import type { RequestProgress } from '@spincycle/protocol';

export class ProgressCoalescer {
  private readonly latest = new Map<string, RequestProgress>();

  get size(): number {
    return this.latest.size;
  }

  set(body: RequestProgress): void {
    this.latest.set(body.requestId, body);
  }

  delete(requestId: string): void {
    this.latest.delete(requestId);
  }

  /** Everything held, less the chains `skip` names (a finish carries the final count), all cleared. */
  take(skip: (requestId: string) => boolean): RequestProgress[] {
    const out: RequestProgress[] = [];
    for (const [id, p] of this.latest) if (!skip(id)) out.push(p);
    this.latest.clear();
    return out;
  }

  /** A call will be made again: its values go back unless a newer one came meanwhile (or `skip` says not). Returns how many went back. */
  putBack(list: RequestProgress[], skip: (requestId: string) => boolean): number {
    let n = 0;
    for (const p of list)
      if (!this.latest.has(p.requestId) && !skip(p.requestId)) {
        this.latest.set(p.requestId, p);
        n++;
      }
    return n;
  }
}
