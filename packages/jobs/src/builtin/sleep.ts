/** `sleep`: waits `duration` milliseconds; a stop ends it at once with STOPPED. */
import type { JobArgs, JobData } from '@spincycle/protocol';
import { requiredMillis } from '../args.js';
import { BaseJob } from '../base-job.js';
import { formatDuration } from '../duration.js';
import type { JobReturn } from '../job.js';

export interface SleepArgs {
  /** Milliseconds to sleep. */
  duration: number;
}

export class SleepJob extends BaseJob<SleepArgs> {
  private startedAt: number | undefined;
  private endedAt: number | undefined;
  private outcome: 'done' | 'stopped' | undefined;

  protected override parseArgs(jobArgs: JobArgs): SleepArgs {
    return { duration: requiredMillis(jobArgs, 'duration') };
  }

  override async run(_jobData: JobData): Promise<JobReturn> {
    const duration = this.args.duration;
    if (typeof duration !== 'number' || !(duration >= 0)) {
      return this.fail(`invalid duration ${String(duration)} (job bytes not from create?)`);
    }
    this.startedAt = performance.now();
    this.endedAt = undefined;
    this.outcome = undefined;
    const full = await this.wait(duration);
    this.endedAt = performance.now();
    this.outcome = full ? 'done' : 'stopped';
    if (full) return this.complete();
    return this.stopped({
      error: `stopped after ${formatDuration(this.endedAt - this.startedAt)} of ${formatDuration(duration)}`,
    });
  }

  override status(): string {
    const duration = this.args.duration;
    if (this.startedAt === undefined)
      return this.stopRequested ? 'stopped before sleeping' : `not started, will sleep ${duration} ms`;
    const elapsed = (this.endedAt ?? performance.now()) - this.startedAt;
    const left = Math.max(0, Math.ceil(duration - elapsed));
    if (this.outcome === 'done') return `slept ${duration} ms`;
    if (this.outcome === 'stopped') return `stopped, ${left} ms were left`;
    return `sleeping, ${left} ms left`;
  }
}
