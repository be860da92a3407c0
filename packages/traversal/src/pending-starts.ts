/**
 * A chain's jobs that are dispatched but not started yet: waiting for a slot
 * (a JobSlots ticket) or for a sequence retry's wait to pass (a timer). Either
 * can be called off (stop, suspend, a sequence retry, a dropped chain).
 */
import type { JobSlots, SlotTicket } from './job-slots.js';

export class PendingStarts {
  private readonly tickets = new Map<string, SlotTicket>();
  private readonly waits = new Map<string, NodeJS.Timeout>();

  constructor(private readonly slots: JobSlots) {}

  /** Ask for a slot for job `id`; `start` runs holding it (at once when one is free). */
  requestSlot(id: string, start: () => void): void {
    const ticket = this.slots.request(start);
    if (ticket) this.tickets.set(id, ticket);
  }

  /** Job `id` got its slot. */
  started(id: string): void {
    this.tickets.delete(id);
  }

  /** Run `then` for job `id` after `ms`. */
  wait(id: string, ms: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.waits.delete(id);
      then();
    }, ms);
    this.waits.set(id, timer);
  }

  /** Call off job `id`'s start; false when it is not pending. */
  cancel(id: string): boolean {
    const ticket = this.tickets.get(id);
    if (ticket) {
      this.slots.cancel(ticket);
      this.tickets.delete(id);
      return true;
    }
    const timer = this.waits.get(id);
    if (!timer) return false;
    clearTimeout(timer);
    this.waits.delete(id);
    return true;
  }

  /** Call off every pending start; returns the job ids (those waiting for a slot first). */
  cancelAll(): string[] {
    const ids = [...this.tickets.keys(), ...this.waits.keys()];
    for (const ticket of this.tickets.values()) this.slots.cancel(ticket);
    this.tickets.clear();
    for (const timer of this.waits.values()) clearTimeout(timer);
    this.waits.clear();
    return ids;
  }
}
