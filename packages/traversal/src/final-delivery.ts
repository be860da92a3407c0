/**
 * A finalized chain's last message to the RM: a suspended chain is handed
 * back (`suspend`); when the RM cannot take it in time, or for any other final
 * state, a finish follows. Both go through the reporter, after every job-log
 * entry of the chain.
 */
import { State, type StateValue, toRfc3339 } from '@spincycle/protocol';
import type { ChainState } from './chain-state.js';
import type { ChainReporter, TraversalLogger } from './reporting.js';

/** How the chain ended, once finalized. */
export interface ChainOutcome {
  /** COMPLETE, FAIL, STOPPED or SUSPENDED. */
  state: StateValue;
  /** Whether the RM got the final message. */
  delivered: boolean;
}

export interface FinalDeadlines {
  /** Give up handing the chain back after this (epoch ms), to leave time for a FAIL finish. */
  suspend?: number;
  /** Give up the finish after this (epoch ms). */
  finish?: number;
}

/**
 * The state a finalized chain ends in, from the mode it was in: COMPLETE when every job
 * completed; FAIL when it ran to its end (or ran out of time) with jobs not complete, or a
 * job failed; otherwise STOPPED or SUSPENDED as asked.
 */
export function finalState(chain: ChainState, was: string): StateValue {
  if (chain.allComplete()) return State.COMPLETE;
  if (was === 'running' || chain.anyFailed()) return State.FAIL;
  return was === 'suspending' ? State.SUSPENDED : State.STOPPED;
}

/** deliverFinal, logging (not throwing) an unexpected error. */
export function deliverFinalOrLog(
  reporter: ChainReporter,
  logger: TraversalLogger,
  chain: ChainState,
  state: StateValue,
  deadlines: FinalDeadlines,
): Promise<ChainOutcome> {
  return deliverFinal(reporter, logger, chain, state, deadlines).catch((err: unknown) => {
    logger.error('delivering the final state failed', {
      requestId: chain.requestId,
      error: err instanceof Error ? err.message : String(err),
    });
    return { state, delivered: false };
  });
}

/** Why the chain is dropped (the RM no longer counts it as running here), at the level that fits. */
export function logDrop(
  logger: TraversalLogger,
  f: { requestId: string; mode: string; reason: string; runningJobs: number },
): void {
  if (f.mode !== 'finalized')
    logger.warn('dropping the chain: the RM no longer counts it as running here', f);
  else if (logger.isDebugEnabled())
    logger.debug('the RM no longer counts the chain as running here; its final message is on its way', {
      requestId: f.requestId,
      reason: f.reason,
    });
}

export async function deliverFinal(
  reporter: ChainReporter,
  logger: TraversalLogger,
  chain: ChainState,
  state: StateValue,
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
