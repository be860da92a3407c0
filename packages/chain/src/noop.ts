/**
 * The built-in `noop` job, used when the job factory does not make `noop`
 * (a user factory's own `noop` takes precedence). Creates nothing, serializes
 * to empty bytes, completes at once.
 */

import type { Job, JobId, JobReturn } from '@spincycle/jobs';
import { State } from '@spincycle/protocol';

const EMPTY = new Uint8Array(0);

export class BuiltinNoopJob implements Job {
  constructor(private readonly jobId: JobId) {}
  id(): JobId {
    return this.jobId;
  }
  create(): void {}
  serialize(): Uint8Array {
    return EMPTY;
  }
  deserialize(): void {}
  async run(): Promise<JobReturn> {
    return { state: State.COMPLETE };
  }
  stop(): void {}
  status(): string {
    return 'noop';
  }
}
