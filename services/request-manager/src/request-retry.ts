/**
 * Retry from failure (`POST /api/v1/requests/{id}/retry`): a FAIL or STOPPED
 * request runs again, same id, from its failed and stopped jobs (retry-chain.ts);
 * completed jobs are not run again, try numbers continue and the job log keeps
 * every earlier try. The chain goes to a live JR through the resume call, as a
 * suspended chain would. Like every state change here it is a conditional
 * UPDATE: the request turns RUNNING on the chosen JR before the JR sees the
 * chain (so its finish cannot race ahead), and only from the state it was read
 * in, so of two concurrent retries one wins and the other gets a 409.
 */
import {
  InvalidStateError,
  type JobChain,
  type JrClient,
  type Request,
  ShuttingDownError,
  State,
  stateName,
  stringifyJson,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import { type Authorizer, type Caller, requireAuthorized } from './auth.js';
import { type JrPool, offerChain, resumeChainJson } from './jr-pool.js';
import { errorMessage, notInState, requestNotFound } from './request-errors.js';
import { SHUTTING_DOWN_MESSAGE } from './request-lifecycle.js';
import { wireRequestOf } from './request-queries.js';
import { retryChain } from './retry-chain.js';
import type { JobLogStore } from './stores/job-log-store.js';
import { toWireRequest } from './stores/request-rows.js';
import type { RequestStore } from './stores/request-store.js';

export interface RequestRetryDeps {
  requests: RequestStore;
  logs: JobLogStore;
  jrs: JrPool;
  authorizer: Authorizer;
  logger: Logger;
  isDraining: () => boolean;
}

const RETRYABLE: readonly number[] = [State.FAIL, State.STOPPED];

export class RequestRetry {
  private readonly log: Logger;

  constructor(private readonly d: RequestRetryDeps) {
    this.log = d.logger.child({ component: 'retry' });
  }

  /** Answers the request as it is once its chain was taken (RUNNING). */
  async retry(caller: Caller, id: string): Promise<Request> {
    if (this.d.isDraining()) throw new ShuttingDownError(SHUTTING_DOWN_MESSAGE);
    const full = await this.d.requests.getFull(id, true);
    if (!full || full.jobChainJson === undefined) throw requestNotFound(id);
    const req = wireRequestOf(full);
    await requireAuthorized(this.d.authorizer, caller, 'retry', req);
    const from = req.state;
    if (!RETRYABLE.includes(from))
      throw new InvalidStateError(
        `request ${id} in state ${stateName(from)} cannot be retried: only FAIL or STOPPED requests can`,
      );
    // Final: no job-log entry can land any more (the RM refuses them), so the log is complete.
    const plan = retryChain(req.JobChain as JobChain, await this.d.logs.tryStates(id));
    const candidates = this.d.jrs.candidates();
    const target = (candidates[0] as JrClient).baseURL;
    const before = full.row;
    const started = await this.d.requests.transition(id, from, {
      state: State.RUNNING,
      finished_at: null,
      finished_jobs: plan.sjc.jobChain.finishedJobs,
      jr_url: target,
    });
    if (!started) throw await notInState(this.d.requests, id, 'FAIL or STOPPED');
    const body = stringifyJson(plan.sjc);
    let jrURL: string;
    try {
      jrURL = await offerChain(
        candidates,
        async (jr) => (await resumeChainJson(jr, body)).jrURL,
        (from, to) => this.d.requests.patchIf(id, State.RUNNING, { jr_url: to }, { jrUrl: from }),
      );
    } catch (err) {
      // Nobody took it: the request is as it was, and the caller may try again.
      await this.d.requests.transition(id, State.RUNNING, {
        state: from,
        finished_at: before.finished_at ?? new Date(),
        finished_jobs: before.finished_jobs,
        jr_url: null,
      });
      this.log.warn('retry failed: no Job Runner took the chain', {
        requestId: id,
        error: errorMessage(err),
      });
      throw err;
    }
    this.log.info('request retried', {
      requestId: id,
      user: caller.name,
      from: stateName(from),
      jobs: plan.rerun.length,
      jrURL,
    });
    const now = await this.d.requests.get(id);
    return toWireRequest(now ?? { ...before, state: State.RUNNING, finished_at: null, jr_url: jrURL });
  }
}
