/**
 * A full GC after a big chain ends (see service-kit's collectGarbage): without
 * one, a JR that goes quiet after running a 140,000-job chain keeps its ~180 MB
 * of garbage until it gets busy again. Several big chains ending together
 * share one collection, `delayMs` after the first (their last reports are out
 * by then).
 */
export interface GcAfterBigChainsOptions {
  /** Chains of at least this many jobs count as big. */
  minJobs: number;
  delayMs: number;
  collect: () => void;
}

export class GcAfterBigChains {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: GcAfterBigChainsOptions) {}

  /** A chain of `jobs` jobs ended. */
  chainDone(jobs: number): void {
    if (jobs < this.o.minJobs || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.o.collect();
    }, this.o.delayMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
