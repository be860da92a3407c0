/**
 * The JR-wide limit on concurrently running jobs (`jobs.max_concurrent`;
 * 0 = unlimited). Jobs past the limit wait in one FIFO queue shared by all
 * chains; a queued job can be cancelled (stop, suspend, sequence retry).
 * Jobs also wait, in the same queue, while the reporter's queue of job-log
 * entries is full (`jobs.max_report_queue`, see gateOn): an RM that does not
 * answer holds jobs back rather than growing the JR's memory without bound.
 */

/** Undefined: there is room now; else resolves when there is. */
export type Room = () => Promise<void> | undefined;

export interface SlotTicket {
  cancelled: boolean;
  readonly start: () => void;
}

export class JobSlots {
  private running = 0;
  private queue: SlotTicket[] = [];
  private head = 0;
  private handing = false;
  private roomOf: Room | undefined;
  private awaitingRoom = false;

  constructor(readonly limit: number) {}

  /** Start no job while `room` says there is none (the reporter's queue is full). */
  gateOn(room: Room): void {
    this.roomOf = room;
  }

  /** For a job between two tries: undefined when the next try may start now, else resolves when it may. */
  room(): Promise<void> | undefined {
    return this.roomOf?.();
  }

  /** No room now: queued jobs are handed out once there is. */
  private full(): boolean {
    const wait = this.roomOf?.();
    if (!wait) return false;
    if (!this.awaitingRoom) {
      this.awaitingRoom = true;
      void wait.then(() => {
        this.awaitingRoom = false;
        this.handOutGuarded();
      });
    }
    return true;
  }

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
    if ((this.limit <= 0 || this.running < this.limit) && !this.full()) {
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
    this.handOutGuarded();
  }

  private handOutGuarded(): void {
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
    while (this.head < this.queue.length && (this.limit <= 0 || this.running < this.limit) && !this.full()) {
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
