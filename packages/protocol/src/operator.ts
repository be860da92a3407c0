/**
 * Our additions for operators: plans (dry-run creates) and explanations
 * ("why is it not done?", `GET /api/v1/requests/{id}/explain`).
 */

import type { StateName } from './states.js';
import type { JobChain, Request } from './wire.js';

/**
 * `POST /api/v1/requests?dryRun=true`: the request a create would make,
 * without `id`, `createdAt` and `jrURL` (nothing was stored), with the chain
 * it would run (its `requestId` is ""). Secret arg values are `[redacted]`.
 */
export type RequestPlan = Omit<Request, 'id' | 'createdAt' | 'jrURL'> & { JobChain: JobChain };

/** One reason: a stable `kind`, a readable `message`, and details by kind. */
export interface ExplainReason {
  kind: string;
  message: string;
  [detail: string]: unknown;
}

export interface JobExplanation {
  jobId: string;
  name: string;
  type: string;
  /** The job's state as far as the RM knows (its JR, its last job-log entry, or the suspended chain). */
  state: StateName;
  reasons: ExplainReason[];
}

export interface RequestExplanation {
  requestId: string;
  state: StateName;
  final: boolean;
  /** About the request as a whole (not started, suspended, its Job Runner lost, …). */
  reasons: ExplainReason[];
  /** Not final: every unfinished job. Final: the jobs that failed or were stopped. */
  jobs: JobExplanation[];
}
