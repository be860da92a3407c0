/** Chains the RM told the JR to drop: nothing more is delivered for them. */
export class ForgottenChains {
  private readonly at = new Map<string, number>();

  get size(): number {
    return this.at.size;
  }

  has(requestId: string): boolean {
    return this.at.has(requestId);
  }

  /** Remembered for an hour: long enough for every straggler of that chain. */
  add(requestId: string, now = Date.now()): void {
    this.at.set(requestId, now);
    if (this.at.size > 1000) for (const [id, t] of this.at) if (now - t > 3_600_000) this.at.delete(id);
  }
}
