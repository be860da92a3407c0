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

interface Registered {
  listener: FinalListener;
  /** Whether the listener has anything to do for requests of this type (absent: always). */
  appliesTo?: ((type: string) => boolean) | undefined;
}

export class FinalStates {
  private readonly listeners: Registered[] = [];
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly logger?: Logger) {}

  /**
   * `appliesTo` lets a listener skip requests of types it has nothing to do for (no locks, no
   * webhooks) when the emitter knows the type, so a final state costs no extra database work.
   */
  on(listener: FinalListener, appliesTo?: (type: string) => boolean): void {
    this.listeners.push({ listener, appliesTo });
  }

  /** `type`: the request's type when known (else every listener runs; its sweep is the backstop anyway). */
  emit(requestId: string, state: number, type?: string): void {
    for (const { listener, appliesTo } of this.listeners) {
      if (type !== undefined && appliesTo && !appliesTo(type)) continue;
      const p = (async () => listener(requestId, state))().catch((err: unknown) => {
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
