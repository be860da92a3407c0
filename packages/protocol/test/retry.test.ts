/** retryWithBackoff: the one retry loop (attempt bound, deadline, non-retryable failures, abort), and the tolerant reply parsers. */
import { describe, expect, it } from 'vitest';
import { parseHeartbeatReply, parseReportResult } from '../src/replies.js';
import { backoffDelay, retryWithBackoff } from '../src/retry.js';

describe('retryWithBackoff', () => {
  it('retries until the operation resolves, with doubling waits capped at the maximum', async () => {
    const waits: number[] = [];
    const v = await retryWithBackoff(
      async (attempt) => {
        if (attempt < 4) throw new TypeError(`try ${attempt}`);
        return attempt;
      },
      { baseDelayMs: 1, maxDelayMs: 3, onRetry: (_e, _a, d) => waits.push(d) },
    );
    expect(v).toBe(4);
    expect(waits).toEqual([1, 2, 3]);
    expect(backoffDelay(5, 100, 5000)).toBe(1600);
  });

  it('throws the last failure, unchanged, once the attempts are used up', async () => {
    let calls = 0;
    const thrown = { not: 'an Error' };
    await expect(
      retryWithBackoff(
        async () => {
          calls++;
          throw thrown;
        },
        { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
      ),
    ).rejects.toBe(thrown);
    expect(calls).toBe(3);
  });

  it('does not retry a failure shouldRetry refuses, nor one whose wait would pass the deadline', async () => {
    let calls = 0;
    const fail = async () => {
      calls++;
      throw new Error('4xx');
    };
    await expect(
      retryWithBackoff(fail, { baseDelayMs: 1, maxDelayMs: 1, shouldRetry: () => false }),
    ).rejects.toThrow('4xx');
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      retryWithBackoff(fail, { baseDelayMs: 1000, maxDelayMs: 1000, deadline: Date.now() + 500 }),
    ).rejects.toThrow('4xx');
    expect(calls).toBe(1);
  });

  it('an abort ends the wait at once with the signal reason', async () => {
    const ac = new AbortController();
    const p = retryWithBackoff(
      async () => {
        queueMicrotask(() => ac.abort(new Error('closing')));
        throw new Error('down');
      },
      { baseDelayMs: 60_000, maxDelayMs: 60_000, signal: ac.signal },
    );
    await expect(p).rejects.toThrow('closing');
  });
});

describe('RM replies a JR reads', () => {
  it('keep what is well-formed and read the rest as nothing said', () => {
    expect(parseHeartbeatReply({ drop: ['a', 7, null, 'b'], leaseMs: '3000' })).toEqual({
      drop: ['a', 'b'],
      leaseMs: 3000,
    });
    expect(parseHeartbeatReply(undefined)).toEqual({ drop: [], leaseMs: 0 });
    expect(parseReportResult({ inserted: 2, refused: ['r', 1], finishes: { a: 'ok', b: 'maybe' } })).toEqual({
      inserted: 2,
      refused: ['r'],
      finishes: { a: 'ok' },
    });
  });
});
