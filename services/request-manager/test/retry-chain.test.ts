/** The chain a retry sends: final job states from the job log, what runs again, the try counters. */
import { type Job, type JobChain, State } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { retryChain } from '../src/retry-chain.js';

const job = (id: string, sequenceId = 's'): Job => ({
  id,
  name: id,
  type: 'noop',
  state: State.PENDING,
  retry: 0,
  sequenceId,
  sequenceRetry: 0,
});

// s → a → b → c, and s → p → q → c: two branches joining at c.
const chain: JobChain = {
  requestId: 'r1',
  jobs: Object.fromEntries(['s', 'a', 'b', 'c', 'p', 'q'].map((id) => [id, job(id)])),
  adjacencyList: { s: ['a', 'p'], a: ['b'], b: ['c'], p: ['q'], q: ['c'] },
  state: State.PENDING,
  finishedJobs: 0,
};

describe('retryChain', () => {
  it('keeps completed jobs, re-runs failed ones and everything after them, and continues try numbers', () => {
    const { sjc, rerun } = retryChain(chain, [
      { jobId: 's', try: 1, state: State.COMPLETE },
      { jobId: 'a', try: 1, state: State.COMPLETE },
      { jobId: 'b', try: 1, state: State.FAIL },
      { jobId: 'b', try: 2, state: State.FAIL },
      // p failed at its last try after an earlier completed one; q completed before p re-ran.
      { jobId: 'p', try: 1, state: State.COMPLETE },
      { jobId: 'q', try: 1, state: State.COMPLETE },
      { jobId: 'p', try: 2, state: State.STOPPED },
    ]);
    const states = Object.fromEntries(Object.values(sjc.jobChain.jobs).map((j) => [j.id, j.state]));
    expect(states).toEqual({
      s: State.COMPLETE,
      a: State.COMPLETE,
      b: State.PENDING,
      c: State.PENDING,
      p: State.PENDING,
      // Completed, but after a job that runs again: it runs again too.
      q: State.PENDING,
    });
    expect(rerun.sort()).toEqual(['b', 'c', 'p', 'q']);
    expect(sjc.jobChain.finishedJobs).toBe(2);
    expect(sjc.totalJobTries).toEqual({ s: 1, a: 1, b: 2, p: 2, q: 1 });
    expect(sjc.latestRunJobTries).toEqual({});
    // The sequence started once in this run (its start job is kept COMPLETE).
    expect(sjc.sequenceTries).toEqual({ s: 1 });
    expect(sjc.requestId).toBe('r1');
    // The stored chain is not changed.
    expect(chain.jobs.s?.state).toBe(State.PENDING);
  });

  it('a request stopped before any job ran: every job PENDING, no counters', () => {
    const { sjc, rerun } = retryChain(chain, []);
    expect(rerun).toHaveLength(6);
    expect(sjc.jobChain.finishedJobs).toBe(0);
    expect(sjc.totalJobTries).toEqual({});
    expect(sjc.sequenceTries).toEqual({});
  });
});
