/**
 * The JR-wide limit on concurrently running jobs (`jobs.max_concurrent`;
 * 0 = unlimited). Jobs past the limit wait in one FIFO queue shared by all
 * chains; a queued job can be cancelled (stop, suspend, sequence retry).
 */

export interface SlotTicket {
  cancelled: boolean;
  readonly start: () => void;
}

export class JobSlots {
  private running = 0;
  private queue: SlotTicket[] = [];
  private head = 0;
  private handing = false;

  constructor(readonly limit: number) {}

  /** Jobs holding a slot. */
  get inUse(): number {
    return this.running;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) if (!(this.queue[i] as SlotTicket).cancelled) n++;
    return n;
  }

  /**
   * Take a slot and call `start` now, or queue `start` until one is free.
   * Returns the ticket when queued, undefined when started at once.
   */
  request(start: () => void): SlotTicket | undefined {
    if (this.limit <= 0 || this.running < this.limit) {
      this.running++;
      start();
      return undefined;
    }
    const ticket: SlotTicket = { cancelled: false, start };
    this.queue.push(ticket);
    return ticket;
  }

  /** Give a slot back; the oldest queued job (if any) gets it. */
  release(): void {
    this.running--;
    // A start that releases at once (a job that cannot be created) must not recurse.
    if (this.handing) return;
    this.handing = true;
    try {
      this.handOut();
    } finally {
      this.handing = false;
    }
  }

  private handOut(): void {
    while (this.head < this.queue.length && (this.limit <= 0 || this.running < this.limit)) {
      const t = this.queue[this.head] as SlotTicket;
      this.queue[this.head] = undefined as unknown as SlotTicket;
      this.head++;
      if (t.cancelled) continue;
      this.running++;
      t.start();
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Drop a queued job. */
  cancel(ticket: SlotTicket): void {
    ticket.cancelled = true;
  }
}
