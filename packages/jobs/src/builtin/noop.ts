/** `noop`: does nothing and completes. Also the type of every sequence's begin/end job. */
import type { JobData } from '@spincycle/protocol';
import { BaseJob } from '../base-job.js';
import type { JobReturn } from '../job.js';

export class NoopJob extends BaseJob {
  override async run(_jobData: JobData): Promise<JobReturn> {
    return this.complete();
  }

  override status(): string {
    return 'noop';
  }
}
