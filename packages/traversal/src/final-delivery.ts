/**
 * A finalized chain's last message to the RM: a suspended chain is handed
 * back (`suspend`); when the RM cannot take it in time, or for any other final
 * state, a finish follows. Both go through the reporter, after every job-log
 * entry of the chain.
 */
import { State, toRfc3339 } from '@spincycle/protocol';
import type { ChainState } from './chain-state.js';
import type { ChainReporter, TraversalLogger } from './reporting.js';

/** How the chain ended, once finalized. */
export interface ChainOutcome {
  /** COMPLETE, FAIL, STOPPED or SUSPENDED. */
  state: number;
  /** Whether the RM got the final message. */
  delivered: boolean;
}

export interface FinalDeadlines {
  /** Give up handing the chain back after this (epoch ms), to leave time for a FAIL finish. */
  suspend?: number;
  /** Give up the finish after this (epoch ms). */
  finish?: number;
}

export async function deliverFinal(
  reporter: ChainReporter,
  logger: TraversalLogger,
  chain: ChainState,
  state: number,
  deadlines: FinalDeadlines,
): Promise<ChainOutcome> {
  const requestId = chain.requestId;
  let finishedAt = toRfc3339(new Date());
  if (state === State.SUSPENDED) {
    const r = await reporter.suspend(chain.toSuspended(), { deadline: deadlines.suspend });
    if (r.delivered) return { state, delivered: true };
    logger.error('could not hand the suspended chain back to the RM; finishing it FAIL', {
      requestId,
      reason: r.reason,
    });
    state = State.FAIL;
    chain.state = state;
    finishedAt = toRfc3339(new Date());
  }
  const r = await reporter.finish(
    { requestId, state, finishedAt, finishedJobs: chain.finishedJobs },
    { deadline: deadlines.finish },
  );
  if (!r.delivered && !r.rejected)
    logger.error('final state not delivered to the RM', { requestId, state, reason: r.reason });
  return { state, delivered: r.delivered };
}
