/**
 * Finishes waiting for delivery, and when each may go: a finish rides in a
 * report call only when every job-log entry of its chain is delivered or in
 * that very call. The RM stores a call's entries before it applies its
 * finishes, so a finish is never applied before its chain's job log.
 *
 * The RM answers each finish `ok`, `not_running`, `not_found` or `invalid`:
 * all four settle it. A finish with a deadline gives up when it passes.
 */
import type { FinishOutcome, FinishRequest, ReportResult } from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import type { Delivery } from '@spincycle/traversal';

export type { Delivery } from '@spincycle/traversal';

/** A finish waiting for delivery. */
export interface PendingFinish {
  body: FinishRequest;
  resolve: (d: Delivery) => void;
  settled: boolean;
  /** Part of the call in flight. */
  inFlight: boolean;
  attempts: number;
  timer?: NodeJS.Timeout;
}

const FINISH_REASONS: Record<Exclude<FinishOutcome, 'ok' | 'other_jr'>, string> = {
  not_running: 'the request is not RUNNING at the RM',
  not_found: 'the RM does not know the request',
  invalid: 'the RM found the finish invalid',
};

export const DROPPED: Delivery = { delivered: false, reason: 'the RM dropped this chain', rejected: true };
export const CLOSED: Delivery = { delivered: false, reason: 'reporter closed', rejected: false };

export class FinishGate {
  private readonly finishes = new Map<string, PendingFinish>();

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.finishes.size;
  }

  has(requestId: string): boolean {
    return this.finishes.has(requestId);
  }

  /**
   * Hold a finish until it is settled. With a deadline it gives up then
   * (logged with the chain's undelivered entries, `pendingFor`), and
   * `onGiveUp` runs.
   */
  add(
    body: FinishRequest,
    deadline: number | undefined,
    pendingFor: (requestId: string) => number,
    onGiveUp: () => void,
  ): Promise<Delivery> {
    const requestId = body.requestId;
    return new Promise<Delivery>((resolve) => {
      const f: PendingFinish = { body, resolve, settled: false, inFlight: false, attempts: 0 };
      // Never happens (one finish per chain); the newer one wins.
      const older = this.finishes.get(requestId);
      if (older)
        this.settle(older, { delivered: false, reason: 'superseded by a newer finish', rejected: true });
      this.finishes.set(requestId, f);
      if (deadline !== undefined) {
        f.timer = setTimeout(
          () => {
            this.logger.error('could not deliver finish to the RM before the deadline', {
              requestId,
              attempts: f.attempts,
              undeliveredEntries: pendingFor(requestId),
            });
            this.settle(f, { delivered: false, reason: 'deadline passed', rejected: false });
            onGiveUp();
          },
          Math.max(0, deadline - Date.now()),
        );
      }
    });
  }

  /**
   * The finishes that may ride in a call carrying `inCall` entries per
   * chain (at most `max`): those whose chain has no other undelivered
   * entry. They are marked in flight.
   */
  ready(
    inCall: Map<string, number>,
    pendingFor: (requestId: string) => number,
    max: number,
  ): PendingFinish[] {
    const out: PendingFinish[] = [];
    for (const [id, f] of this.finishes) {
      if (out.length >= max) break;
      if (pendingFor(id) !== (inCall.get(id) ?? 0)) continue;
      f.inFlight = true;
      f.attempts++;
      out.push(f);
    }
    return out;
  }

  /** The call carrying these finishes will be made again (or they wait for their entries). */
  release(list: PendingFinish[]): void {
    for (const f of list) f.inFlight = false;
  }

  /** A 200: each finish settled by its outcome. Returns how many got no outcome (still held). */
  answered(list: PendingFinish[], result: ReportResult): number {
    let unanswered = 0;
    for (const f of list) {
      f.inFlight = false;
      const requestId = f.body.requestId;
      const outcome = result.finishes[requestId];
      if (outcome === undefined || outcome === 'other_jr') {
        unanswered++;
        continue;
      }
      if (outcome === 'ok') {
        if (f.attempts > 1)
          this.logger.info('finish delivered to the RM', { requestId, attempts: f.attempts });
        this.settle(f, { delivered: true });
        continue;
      }
      const reason = FINISH_REASONS[outcome];
      this.logger[outcome === 'not_running' ? 'warn' : 'error']('RM refused finish; not retrying', {
        requestId,
        error: reason,
      });
      this.settle(f, { delivered: false, reason, rejected: true });
    }
    return unanswered;
  }

  /** The RM refused a call carrying only these finishes: each is refused for good. */
  refused(list: PendingFinish[], error: string): void {
    for (const f of list) {
      this.logger.error('RM refused finish; not retrying', { requestId: f.body.requestId, error });
      this.settle(f, { delivered: false, reason: error, rejected: true });
    }
  }

  /** The RM dropped the chain: its finish gives up, unless in flight (the RM's answer settles that one). */
  forget(requestId: string): void {
    const f = this.finishes.get(requestId);
    if (f && !f.inFlight) this.settle(f, DROPPED);
  }

  close(): void {
    for (const f of [...this.finishes.values()]) this.settle(f, CLOSED);
  }

  private settle(f: PendingFinish, d: Delivery): void {
    if (f.settled) return;
    f.settled = true;
    if (f.timer) clearTimeout(f.timer);
    if (this.finishes.get(f.body.requestId) === f) this.finishes.delete(f.body.requestId);
    f.resolve(d);
  }
}
