/**
 * Plans (`POST /api/v1/requests?dryRun=true`): the chain a create would
 * build, built the same way (the jobs' `create` runs, so the plan is real)
 * and authorized the same way, then thrown away: nothing is stored and no
 * Job Runner is called. Values of `secret: true` args are redacted.
 */
import type { BuiltJobChain } from '@spincycle/chain';
import {
  type CreateRequest,
  type JobChain,
  type RequestPlan as Plan,
  type Request,
  State,
} from '@spincycle/protocol';
import { type Authorizer, type Caller, requireAuthorized } from './auth.js';
import type { RequestCatalog } from './catalog.js';

export const REDACTED = '[redacted]';

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
    await requireAuthorized(this.authorizer, caller, 'start', {
      id: '',
      type,
      state: State.PENDING,
      user: caller.name,
      args: this.catalog.resolveArgs(type, args),
      createdAt: '',
      startedAt: null,
      finishedAt: null,
      totalJobs: 0,
      finishedJobs: 0,
    });
    const built = await this.catalog.build(type, args, { maxJobs: this.maxJobs });
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
    return { ...fields, args: redactArgs(built), JobChain: redactChain(built) };
  }
}

function secretValues(built: BuiltJobChain): Set<string> {
  const out = new Set<string>();
  for (const a of built.requestArgs)
    if (built.secretArgs.includes(a.Name) && a.Value !== null && a.Value !== undefined && a.Value !== '')
      out.add(String(a.Value));
  return out;
}

function redactArgs(built: BuiltJobChain): Request['args'] {
  return built.requestArgs.map((a) =>
    built.secretArgs.includes(a.Name)
      ? { ...a, Value: a.Value === null ? null : REDACTED, Default: a.Default === null ? null : REDACTED }
      : a,
  );
}

/**
 * The chain with requestId "" and secret values redacted wherever jobs got
 * them (under the secret's name or another one); a job's serialized bytes
 * could hold them too, so they are left out when the request has secrets.
 */
function redactChain(built: BuiltJobChain): JobChain {
  const secrets = secretValues(built);
  const names = new Set(built.secretArgs);
  const jobs: JobChain['jobs'] = {};
  for (const [id, job] of Object.entries(built.chain.jobs)) {
    if (names.size === 0) {
      jobs[id] = job;
      continue;
    }
    const { bytes: _bytes, ...rest } = job;
    const args = job.args
      ? Object.fromEntries(
          Object.entries(job.args).map(([k, v]) => [
            k,
            names.has(k) || (v !== null && v !== undefined && secrets.has(String(v))) ? REDACTED : v,
          ]),
        )
      : undefined;
    jobs[id] = args ? { ...rest, args } : rest;
  }
  return { ...built.chain, requestId: '', jobs };
}
