/**
 * Who is told when a request reaches a final state (COMPLETE, FAIL, STOPPED)
 * on this RM: lock release and waiter start (locks.ts), webhooks (notify.ts).
 * Each path that records a final state (finish, batched reports, stop, lost
 * JR, failed start, expired suspended chain) calls `emit` once the write
 * committed; listeners run in the background and never fail the caller.
 * What a crashed RM misses here, the periodic sweeps of the listeners catch.
 */
import type { Logger } from '@spincycle/service-kit';

export type FinalListener = (requestId: string, state: number) => Promise<void> | void;

export class FinalStates {
  private readonly listeners: FinalListener[] = [];
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly logger?: Logger) {}

  on(listener: FinalListener): void {
    this.listeners.push(listener);
  }

  emit(requestId: string, state: number): void {
    for (const l of this.listeners) {
      const p = (async () => l(requestId, state))().catch((err: unknown) => {
        this.logger?.warn('final-state listener failed', { requestId, error: (err as Error).message });
      });
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    }
  }

  /** Wait for the listeners under way (shutdown, tests). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
