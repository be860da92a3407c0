/**
 * A loop that runs `run` again `intervalMs` after the previous run ended (so
 * runs never overlap and a slow run delays the next instead of piling up).
 * `stop()` cancels the next run and waits for one in progress, so a service
 * can close its database after it. Timers are unref'd: a loop alone keeps no
 * process alive.
 */
export interface PeriodicTaskOptions {
  /** Time between the end of a run and the start of the next; read before each wait. */
  intervalMs: number | (() => number);
  /** Wait before the first run (default: one interval). */
  firstDelayMs?: number;
  run: () => Promise<unknown>;
  /** Called with what a run threw; the loop goes on. */
  onError: (err: unknown) => void;
}

export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private active = false;

  constructor(private readonly opts: PeriodicTaskOptions) {}

  /** Whether the loop is started and not stopped (a run may check it to end early). */
  get running(): boolean {
    return this.active;
  }

  /** Start the loop; a second start while running does nothing. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.schedule(this.opts.firstDelayMs);
  }

  /** Stop the loop and wait for the run in progress, if any. */
  async stop(): Promise<void> {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /** Resolves when the run in progress (if any) has ended. */
  async idle(): Promise<void> {
    await this.current;
  }

  private schedule(delay?: number): void {
    if (!this.active) return;
    const interval =
      typeof this.opts.intervalMs === 'function' ? this.opts.intervalMs() : this.opts.intervalMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current = this.opts
        .run()
        .then(
          () => undefined,
          (err: unknown) => this.opts.onError(err),
        )
        .finally(() => {
          this.current = undefined;
          this.schedule();
        });
    }, delay ?? interval);
    this.timer.unref();
  }
}
