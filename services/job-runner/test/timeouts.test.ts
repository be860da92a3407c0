/**
 * Job, sequence and request timeouts and the retry backoff, on an in-process JR with the
 * in-memory RM (the waits are asserted as computed, with a fixed jitter, not as wall time).
 */
import { State } from '@spincycle/protocol';
import { backoffPolicy, retryWaitMs } from '@spincycle/traversal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { line, makeChain, reqId, runChain, runCount, startTestJr, summary, type TestJr } from './helpers.js';

type Wait = { jobId: string; kind: 'job' | 'sequence'; retry: number; ms: number };

let jr: TestJr;
const waits: Wait[] = [];
beforeAll(async () => {
  jr = await startTestJr({ stopBudgetMs: 300, random: () => 0.5, onRetryWait: (w) => waits.push(w) });
});
afterAll(async () => {
  await jr.close();
});

describe('retry backoff waits', () => {
  it('constant is retryWait every time; exponential doubles, caps at retryWaitMax, equal jitter', () => {
    const constant = backoffPolicy('2s');
    expect([1, 2, 5].map((n) => retryWaitMs(constant, n, () => 0.9))).toEqual([2000, 2000, 2000]);
    const exp = backoffPolicy('1s', 'exponential', '5s');
    // random 0: the lower half of the delay; random → 1: the full delay.
    expect([1, 2, 3, 4, 10].map((n) => retryWaitMs(exp, n, () => 0))).toEqual([500, 1000, 2000, 2500, 2500]);
    expect([1, 2, 3].map((n) => retryWaitMs(exp, n, () => 0.999999))).toEqual(
      [1000, 2000, 4000].map((d) => expect.closeTo(d, 0)),
    );
    expect(retryWaitMs(backoffPolicy('0s', 'exponential'), 3)).toBe(0);
    expect(retryWaitMs(backoffPolicy('1ms', 'exponential'), 1000, () => 0)).toBe(2 ** 40 / 2);
  });

  it('a job with exponential backoff waits the computed, capped waits between tries', async () => {
    const { id, finish } = await runChain(jr, [
      {
        id: 'a',
        type: 't-fail',
        retry: 4,
        retryWait: '10ms',
        wire: { retryBackoff: 'exponential', retryWaitMax: '30ms' },
      },
    ]);
    expect(finish.state).toBe(State.FAIL);
    expect(summary(jr.sink.jobLogs(id, 'a'))).toEqual([
      'a:1:FAIL',
      'a:2:FAIL',
      'a:3:FAIL',
      'a:4:FAIL',
      'a:5:FAIL',
    ]);
    // d = 10, 20, 30 (cap), 30; wait = d/2 + 0.5 × d/2
    const mine = waits.filter((w) => w.jobId === 'a' && w.kind === 'job').slice(-4);
    expect(mine.map((w) => [w.retry, w.ms])).toEqual([
      [1, 7.5],
      [2, 15],
      [3, 22.5],
      [4, 22.5],
    ]);
  });

  it('a sequence with exponential backoff waits the computed waits between sequence tries', async () => {
    const { id, finish } = await runChain(
      jr,
      [
        { id: 'S', seqRetry: 2, seqRetryWait: '20ms', wire: { sequenceRetryBackoff: 'exponential' } },
        { id: 'J', type: 't-fail' },
      ],
      line(['S', 'J']),
    );
    expect(finish.state).toBe(State.FAIL);
    expect(summary(jr.sink.jobLogs(id, 'J'))).toEqual(['J:1:FAIL', 'J:2:FAIL', 'J:3:FAIL']);
    const mine = waits.filter((w) => w.jobId === 'S' && w.kind === 'sequence').slice(-2);
    expect(mine.map((w) => [w.retry, w.ms])).toEqual([
      [1, 15],
      [2, 30],
    ]);
  });
});

describe('job timeout', () => {
  it('stops a try that runs longer, fails it "timed out after …", and retries it on a fresh job', async () => {
    const { id, finish } = await runChain(jr, [
      { id: 'a', type: 't-sleep', args: { ms: 20_000 }, retry: 1, wire: { timeout: '150ms' } },
    ]);
    expect(finish.state).toBe(State.FAIL);
    const logs = jr.sink.jobLogs(id, 'a');
    expect(summary(logs)).toEqual(['a:1:FAIL', 'a:2:FAIL']);
    expect(logs.map((l) => l.error)).toEqual(['timed out after 150ms', 'timed out after 150ms']);
    // Both tries really ran (the second on a new instance: a stopped job stays stopped).
    expect(await runCount(id, 'a')).toBe(2);
  });

  it('a try within its timeout completes as usual', async () => {
    const { finish } = await runChain(jr, [
      { id: 'a', type: 't-sleep', args: { ms: 10 }, wire: { timeout: '5s' } },
    ]);
    expect(finish.state).toBe(State.COMPLETE);
  });

  it('a job that does not return after its stop is given up on after the grace, without further tries', async () => {
    const { id, finish } = await runChain(jr, [
      { id: 'h', type: 't-hang', retry: 2, wire: { timeout: '100ms' } },
    ]);
    expect(finish.state).toBe(State.FAIL);
    const logs = jr.sink.jobLogs(id, 'h');
    expect(summary(logs)).toEqual(['h:1:FAIL']);
    expect(logs[0]?.error).toBe('timed out after 100ms; the job did not return within 300 ms of its stop');
  });
});

describe('sequence timeout', () => {
  it('fails the running jobs of the sequence, then the sequence retry rules apply', async () => {
    const { id, finish } = await runChain(
      jr,
      [
        { id: 'S', seqRetry: 1, wire: { sequenceTimeout: '200ms' } },
        { id: 'A', type: 't-sleep', args: { ms: 20_000 } },
        { id: 'E' },
      ],
      line(['S', 'A', 'E']),
    );
    expect(finish.state).toBe(State.FAIL);
    expect(summary(jr.sink.jobLogs(id, 'S'))).toEqual(['S:1:COMPLETE', 'S:2:COMPLETE']);
    const a = jr.sink.jobLogs(id, 'A');
    expect(summary(a)).toEqual(['A:1:FAIL', 'A:2:FAIL']);
    expect(a.map((l) => l.error)).toEqual([
      'sequence S timed out after 200ms',
      'sequence S timed out after 200ms',
    ]);
    expect(jr.sink.jobLogs(id, 'E')).toEqual([]);
  });

  it('does nothing to a sequence that finished in time', async () => {
    const { finish } = await runChain(
      jr,
      [
        { id: 'S', wire: { sequenceTimeout: '5s' } },
        { id: 'A', type: 't-sleep', args: { ms: 10 } },
        { id: 'E' },
      ],
      line(['S', 'A', 'E']),
    );
    expect(finish.state).toBe(State.COMPLETE);
  });
});

describe('request timeout', () => {
  it('stops the whole request; it ends FAIL with the reason in the job log', async () => {
    const id = reqId();
    const chain = makeChain(
      id,
      [
        { id: 'S' },
        { id: 'A', type: 't-sleep', args: { ms: 20_000 }, retry: 3 },
        { id: 'B', type: 't-sleep', args: { ms: 20_000 } },
        { id: 'E' },
      ],
      { S: ['A', 'B'], A: ['E'], B: ['E'] },
      { timeout: '200ms' },
    );
    await jr.client.startChain(chain);
    const finish = await jr.sink.finished(id);
    expect(finish.state).toBe(State.FAIL);
    for (const job of ['A', 'B']) {
      const logs = jr.sink.jobLogs(id, job);
      expect(summary(logs)).toEqual([`${job}:1:FAIL`]);
      expect(logs[0]?.error).toBe('request timed out after 200ms');
    }
    expect(jr.sink.jobLogs(id, 'E')).toEqual([]);
  });
});
