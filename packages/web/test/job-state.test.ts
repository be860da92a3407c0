import { describe, expect, it } from 'vitest';
import { liveState, liveStates, requestTone, triesByJob } from '../src/job-state.js';
import { type Job, type Log, State, type StateValue } from '../src/wire.js';

const job = (over: Partial<Job> = {}): Job => ({
  id: 'j1',
  name: 'check',
  type: 'shell-command',
  state: State.PENDING,
  retry: 0,
  sequenceId: 'j1',
  sequenceRetry: 0,
  ...over,
});
const log = (t: number, state: StateValue, jobId = 'j1'): Log => ({
  requestId: 'r',
  jobId,
  try: t,
  name: 'check',
  type: 'shell-command',
  startedAt: t * 1e9,
  finishedAt: t * 1e9 + 5e8,
  state,
  exit: state === State.COMPLETE ? 0 : 1,
  error: '',
  stdout: '',
  stderr: '',
});
const base = { running: false, requestRunning: true, sequenceTries: 1, sequenceRetry: 0 };

describe('live job state', () => {
  it('is pending without tries, running while a runner has it, and the last try otherwise', () => {
    expect(liveState({ ...base, job: job(), tries: undefined })).toBe('pending');
    expect(liveState({ ...base, job: job(), tries: [log(1, State.FAIL)], running: true })).toBe('running');
    expect(liveState({ ...base, job: job(), tries: [log(1, State.COMPLETE)] })).toBe('complete');
    expect(liveState({ ...base, job: job(), tries: [log(1, State.STOPPED)] })).toBe('stopped');
  });

  it('is retry wait after a failed try with a retry left while the request runs', () => {
    const j = job({ retry: 2 });
    expect(liveState({ ...base, job: j, tries: [log(1, State.FAIL)] })).toBe('retry');
    expect(liveState({ ...base, job: j, tries: [log(1, State.FAIL), log(2, State.FAIL)] })).toBe('retry');
    expect(liveState({ ...base, job: j, tries: [1, 2, 3].map((t) => log(t, State.FAIL)) })).toBe('fail');
    // The request ended: no retry is coming.
    expect(liveState({ ...base, job: j, tries: [log(1, State.FAIL)], requestRunning: false })).toBe('fail');
  });

  it('is retry wait when the job is out of tries but its sequence may run again', () => {
    const tries = [log(1, State.FAIL)];
    expect(liveState({ ...base, job: job(), tries, sequenceTries: 1, sequenceRetry: 1 })).toBe('retry');
    expect(liveState({ ...base, job: job(), tries, sequenceTries: 2, sequenceRetry: 1 })).toBe('fail');
  });

  it('derives every job of a chain from the log and the running jobs', () => {
    const jobs = {
      a: job({ id: 'a', sequenceId: 'a' }),
      b: job({ id: 'b', sequenceId: 'a' }),
      c: job({ id: 'c', sequenceId: 'a' }),
    };
    const states = liveStates(
      jobs,
      [log(2, State.COMPLETE, 'a'), log(1, State.FAIL, 'a')],
      new Set(['b']),
      true,
    );
    expect(Object.fromEntries(states)).toEqual({ a: 'complete', b: 'running', c: 'pending' });
    expect(
      triesByJob([log(2, State.COMPLETE), log(1, State.FAIL)])
        .get('j1')
        ?.map((l) => l.try),
    ).toEqual([1, 2]);
  });

  it('colours requests with the job palette', () => {
    expect(requestTone(State.RUNNING)).toBe('running');
    expect(requestTone(State.FAIL)).toBe('fail');
    expect(requestTone(State.SUSPENDED)).toBe('retry');
    expect(requestTone(State.PENDING)).toBe('pending');
  });
});
