/**
 * Progress reporting: about once a second, each running
 * chain whose `finishedJobs` changed since it was last reported is sent to
 * the RM. Best effort and coalesced by the reporter; stops at shutdown.
 */
import type { ChainRegistry } from './registry.js';

export interface ProgressSink {
  progress(body: { requestId: string; finishedJobs: number }): void;
}

export class ProgressReporter {
  private timer: NodeJS.Timeout | undefined;
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly registry: ChainRegistry,
    private readonly sink: ProgressSink,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: report every running chain whose count moved. */
  tick(): void {
    const seen = new Set<string>();
    for (const t of this.registry.list()) {
      if (!t.isRunning) continue;
      const id = t.requestId;
      seen.add(id);
      const n = t.chain.finishedJobs;
      if (this.lastSent.get(id) === n) continue;
      this.lastSent.set(id, n);
      this.sink.progress({ requestId: id, finishedJobs: n });
    }
    for (const id of this.lastSent.keys()) if (!seen.has(id)) this.lastSent.delete(id);
  }
}
