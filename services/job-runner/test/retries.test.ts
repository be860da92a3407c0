/**
 * Job retries, sequence retries and try numbering (docs/compatibility.md#sequence-retry),
 * including the fixes: a sequence retry resets only its own invocation, never
 * a running job, never a parallel branch outside it.
 */
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { line, runChain, runCount, startTestJr, summary, type TestJr } from './helpers.js';

let jr: TestJr;
beforeAll(async () => {
  jr = await startTestJr();
});
afterAll(async () => {
  await jr.close();
});

describe('job retries', () => {
  it('retries a failing job up to `retry` times, waiting retryWait between tries', async () => {
    const t0 = Date.now();
    const { id, finish } = await runChain(jr, [
      { id: 'a', type: 't-fail-times', args: { times: 2 }, retry: 2, retryWait: '60ms' },
    ]);
    expect(finish).toMatchObject({ state: State.COMPLETE, finishedJobs: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(115);
    const logs = jr.sink.jobLogs(id, 'a');
    expect(summary(logs)).toEqual(['a:1:FAIL', 'a:2:FAIL', 'a:3:COMPLETE']);
    expect(logs.map((l) => l.error)).toEqual(['run 1 fails', 'run 2 fails', '']);
  });

  it('a job failing every try logs tries 1..retry+1 and fails the chain', async () => {
    const { id, finish } = await runChain(jr, [{ id: 'a', type: 't-fail', retry: 2 }, { id: 'b' }], {
      a: ['b'],
    });
    expect(finish).toMatchObject({ state: State.FAIL, finishedJobs: 0 });
    expect(summary(jr.sink.logs(id))).toEqual(['a:1:FAIL', 'a:2:FAIL', 'a:3:FAIL']);
  });
});

describe('sequence retries and try numbers', () => {
  it('sequence retry example: S (sequenceRetry 1) → J (retry 0) failing twice logs J tries 1 and 2 and S tries 1 and 2', async () => {
    const { id, finish } = await runChain(
      jr,
      [{ id: 'S', seqRetry: 1 }, { id: 'J', type: 't-fail' }, { id: 'E' }],
      line(['S', 'J', 'E']),
    );
    expect(finish).toMatchObject({ state: State.FAIL, finishedJobs: 1 });
    expect(summary(jr.sink.logs(id))).toEqual(['S:1:COMPLETE', 'J:1:FAIL', 'S:2:COMPLETE', 'J:2:FAIL']);
  });

  it('a later sequence try that succeeds completes the chain; job retry budgets restart each sequence try', async () => {
    const t0 = Date.now();
    const { id, finish } = await runChain(
      jr,
      [
        { id: 'S', seqRetry: 2, seqRetryWait: '80ms' },
        { id: 'A' },
        // fails 3 runs: try 1 + its retry in the first sequence try, try 1 in the second
        { id: 'J', type: 't-fail-times', args: { times: 3 }, retry: 1 },
        { id: 'E' },
      ],
      line(['S', 'A', 'J', 'E']),
    );
    expect(finish).toMatchObject({ state: State.COMPLETE, finishedJobs: 4 });
    // one sequence retry, after the 80 ms sequenceRetryWait
    expect(Date.now() - t0).toBeGreaterThanOrEqual(78);
    expect(summary(jr.sink.jobLogs(id, 'S'))).toEqual(['S:1:COMPLETE', 'S:2:COMPLETE']);
    expect(summary(jr.sink.jobLogs(id, 'A'))).toEqual(['A:1:COMPLETE', 'A:2:COMPLETE']);
    // first sequence try: J tries 1, 2 fail; second: try 3 fails, try 4 completes
    expect(summary(jr.sink.jobLogs(id, 'J'))).toEqual(['J:1:FAIL', 'J:2:FAIL', 'J:3:FAIL', 'J:4:COMPLETE']);
  });

  it('runner-creation failures get fresh try numbers across sequence retries (never duplicates)', async () => {
    const { id, finish } = await runChain(
      jr,
      [{ id: 'S', seqRetry: 2 }, { id: 'X', type: 'nope' }, { id: 'E' }],
      line(['S', 'X', 'E']),
    );
    expect(finish.state).toBe(State.FAIL);
    expect(summary(jr.sink.jobLogs(id, 'X'))).toEqual(['X:1:FAIL', 'X:2:FAIL', 'X:3:FAIL']);
  });

  it('resets only the failed invocation: a parallel branch outside it runs once', async () => {
    // R is the request sequence (no retries); Q a nested sequence with one retry, in parallel with X.
    const { id, finish } = await runChain(
      jr,
      [
        { id: 'R' },
        { id: 'X', type: 't-sleep', args: { ms: 250 } },
        { id: 'Q', seq: 'Q', seqRetry: 1 },
        { id: 'QJ', seq: 'Q', type: 't-fail-times', args: { times: 1 } },
        { id: 'QE', seq: 'Q' },
        { id: 'RE' },
      ],
      { R: ['X', 'Q'], Q: ['QJ'], QJ: ['QE'], QE: ['RE'], X: ['RE'] },
    );
    expect(finish).toMatchObject({ state: State.COMPLETE, finishedJobs: 6 });
    expect(summary(jr.sink.jobLogs(id, 'X'))).toEqual(['X:1:COMPLETE']);
    expect(summary(jr.sink.jobLogs(id, 'R'))).toEqual(['R:1:COMPLETE']);
    expect(summary(jr.sink.jobLogs(id, 'Q'))).toEqual(['Q:1:COMPLETE', 'Q:2:COMPLETE']);
    expect(summary(jr.sink.jobLogs(id, 'QJ'))).toEqual(['QJ:1:FAIL', 'QJ:2:COMPLETE']);
    expect(await runCount(id, 'X')).toBe(1);
  });

  it('never resets a job still running: the retry waits for running jobs of the sequence, then re-runs it', async () => {
    const { id, finish } = await runChain(
      jr,
      [
        { id: 'S', seqRetry: 1 },
        { id: 'A', type: 't-sleep', args: { ms: 250 } },
        { id: 'B', type: 't-fail-times', args: { times: 1 } },
        { id: 'E' },
      ],
      { S: ['A', 'B'], A: ['E'], B: ['E'] },
    );
    expect(finish).toMatchObject({ state: State.COMPLETE, finishedJobs: 4 });
    const a = jr.sink.jobLogs(id, 'A');
    const s = jr.sink.jobLogs(id, 'S');
    expect(summary(a)).toEqual(['A:1:COMPLETE', 'A:2:COMPLETE']);
    expect(summary(s)).toEqual(['S:1:COMPLETE', 'S:2:COMPLETE']);
    // the second sequence try started only after A's first run had returned
    expect((s[1]?.startedAt ?? 0n) >= (a[0]?.finishedAt ?? 1n)).toBe(true);
    expect(summary(jr.sink.jobLogs(id, 'B'))).toEqual(['B:1:FAIL', 'B:2:COMPLETE']);
    expect(summary(jr.sink.jobLogs(id, 'E'))).toEqual(['E:1:COMPLETE']);
  });

  it('a job sleeping between job retries is not retried again once its sequence is due for a retry', async () => {
    const { id, finish } = await runChain(
      jr,
      [
        { id: 'S', seqRetry: 1 },
        { id: 'A', type: 't-fail', retry: 5, retryWait: '150ms' },
        { id: 'B', type: 't-fail-times', args: { times: 1 }, retry: 0 },
        { id: 'E' },
      ],
      { S: ['A', 'B'], A: ['E'], B: ['E'] },
    );
    expect(finish.state).toBe(State.FAIL);
    // A's first sequence try ends after its first try (its retries are abandoned for the sequence retry);
    // the second sequence try runs A's full budget of 6 tries.
    const tries = jr.sink.jobLogs(id, 'A').map((l) => l.try);
    expect(tries).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('an inner sequence out of retries never retries the enclosing sequence on its behalf', async () => {
    const { id, finish } = await runChain(
      jr,
      [
        { id: 'R' },
        { id: 'O', seq: 'O', seqRetry: 1 },
        { id: 'I', seq: 'I', seqRetry: 0 },
        { id: 'J', seq: 'I', type: 't-fail-times', args: { times: 1 } },
        { id: 'IE', seq: 'I' },
        { id: 'OE', seq: 'O' },
        { id: 'RE' },
      ],
      line(['R', 'O', 'I', 'J', 'IE', 'OE', 'RE']),
    );
    expect(finish).toMatchObject({ state: State.FAIL, finishedJobs: 3 });
    expect(summary(jr.sink.logs(id))).toEqual(['R:1:COMPLETE', 'O:1:COMPLETE', 'I:1:COMPLETE', 'J:1:FAIL']);
  });

  it('retrying a sequence re-runs the sequences nested in it', async () => {
    const { id, finish } = await runChain(
      jr,
      [
        { id: 'R' },
        { id: 'O', seq: 'O', seqRetry: 1 },
        { id: 'I', seq: 'I', seqRetry: 0 },
        { id: 'J', seq: 'I' },
        { id: 'IE', seq: 'I' },
        { id: 'OJ', seq: 'O', type: 't-fail-times', args: { times: 1 } },
        { id: 'OE', seq: 'O' },
        { id: 'RE' },
      ],
      line(['R', 'O', 'I', 'J', 'IE', 'OJ', 'OE', 'RE']),
    );
    expect(finish).toMatchObject({ state: State.COMPLETE, finishedJobs: 8 });
    expect(summary(jr.sink.logs(id))).toEqual([
      'R:1:COMPLETE',
      'O:1:COMPLETE',
      'I:1:COMPLETE',
      'J:1:COMPLETE',
      'IE:1:COMPLETE',
      'OJ:1:FAIL',
      'O:2:COMPLETE',
      'I:2:COMPLETE',
      'J:2:COMPLETE',
      'IE:2:COMPLETE',
      'OJ:2:COMPLETE',
      'OE:1:COMPLETE',
      'RE:1:COMPLETE',
    ]);
  });

  it('a failure with the sequence out of retries fails the chain after the other branches finish', async () => {
    const { id, finish } = await runChain(
      jr,
      [
        { id: 'R' },
        { id: 'Q', seq: 'Q', seqRetry: 1 },
        { id: 'QJ', seq: 'Q', type: 't-fail' },
        { id: 'QE', seq: 'Q' },
        { id: 'X', type: 't-sleep', args: { ms: 150 } },
        { id: 'RE' },
      ],
      { R: ['Q', 'X'], Q: ['QJ'], QJ: ['QE'], QE: ['RE'], X: ['RE'] },
    );
    expect(finish).toMatchObject({ state: State.FAIL, finishedJobs: 3 });
    expect(summary(jr.sink.jobLogs(id, 'QJ'))).toEqual(['QJ:1:FAIL', 'QJ:2:FAIL']);
    expect(summary(jr.sink.jobLogs(id, 'X'))).toEqual(['X:1:COMPLETE']);
  });
});
