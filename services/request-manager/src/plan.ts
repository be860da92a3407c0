/**
 * Plans (`POST /api/v1/requests?dryRun=true`): the chain a create would
 * build, built the same way (the jobs' `create` runs, so the plan is real)
 * and authorized the same way, then thrown away: nothing is stored and no
 * Job Runner is called. Values of `secret: true` args are redacted.
 */
import { type CreateRequest, type RequestPlan as Plan, type Request, State } from '@spincycle/protocol';
import { type Authorizer, type Caller, requireAuthorized } from './auth.js';
import type { RequestCatalog } from './catalog.js';
import { redactArgs, redactChain, secretValues } from './secrets.js';

export class Planner {
  constructor(
    private readonly catalog: RequestCatalog,
    private readonly authorizer: Authorizer,
    /** `limits.max_jobs`, as for a create. */
    private readonly maxJobs?: number,
  ) {}

  async plan(caller: Caller, { type, args }: CreateRequest): Promise<Plan> {
    // The same decision, in the same order, as a create: authorized on the checked args
    // before anything is built (a denied caller costs no build).
    const resolved = this.catalog.resolveArgs(type, args);
    await requireAuthorized(this.authorizer, caller, 'start', {
      id: '',
      type,
      state: State.PENDING,
      user: caller.name,
      args: resolved.requestArgs,
      createdAt: '',
      startedAt: null,
      finishedAt: null,
      totalJobs: 0,
      finishedJobs: 0,
    });
    const built = await this.catalog.build(type, args, { maxJobs: this.maxJobs, resolved });
    const chain = built.chain;
    const request: Request = {
      id: '',
      type,
      state: State.PENDING,
      user: caller.name,
      args: built.requestArgs,
      createdAt: '',
      startedAt: null,
      finishedAt: null,
      JobChain: chain,
      totalJobs: Object.keys(chain.jobs).length,
      finishedJobs: 0,
    };
    const { id: _id, createdAt: _at, JobChain: _chain, ...fields } = request;
    // Redacted as a stored request's answer is (args, job args and data, bytes that hold a secret).
    const secrets = secretValues(built.requestArgs, built.secretArgs);
    return {
      ...fields,
      args: redactArgs(built.requestArgs, built.secretArgs),
      JobChain: redactChain({ ...chain, requestId: '' }, secrets),
    };
  }
}
