/** Timeouts and retry backoff from the specs onto the wire chain. */
import { describe, expect, it } from 'vitest';
import { buildJobChain } from '../src/index.js';
import { fixture, jobNamed, testFactory } from './helpers.js';

describe('timeouts and backoff on the chain', () => {
  it('carries job, sequence and request timeouts and the backoff fields', async () => {
    const specs = await fixture('timeouts');
    const { chain } = await buildJobChain({
      specs,
      type: 'timed',
      args: {},
      factory: testFactory({ aJobType: {}, bJobType: {}, cJobType: {} }),
    });
    // The request's timeout is a chain field.
    expect(chain.timeout).toBe('10m');
    // A job node: its own timeout and backoff.
    expect(jobNamed(chain, 'a')).toMatchObject({
      retry: 3,
      retryWait: '1s',
      retryBackoff: 'exponential',
      retryWaitMax: '20s',
      timeout: '30s',
    });
    // A sequence node: the start job of the called sequence carries them as sequence fields.
    const start = jobNamed(chain, 'sequence_sub_begin');
    expect(start).toMatchObject({
      sequenceId: start.id,
      sequenceRetry: 1,
      sequenceRetryWait: '5s',
      sequenceRetryBackoff: 'exponential',
      sequenceTimeout: '2m',
    });
    expect(start.timeout).toBeUndefined();
    expect(start.sequenceRetryWaitMax).toBeUndefined();
    // `constant` is the default: left off the wire.
    expect(jobNamed(chain, 'c').retryBackoff).toBeUndefined();
    // Jobs without the keys have none of the fields.
    const b = jobNamed(chain, 'b');
    for (const k of ['timeout', 'retryBackoff', 'retryWaitMax', 'sequenceTimeout'] as const)
      expect(b[k]).toBeUndefined();
    expect(jobNamed(chain, 'request_timed_begin').sequenceTimeout).toBeUndefined();
  });

  it('a request without a timeout has no chain timeout', async () => {
    const specs = await fixture('timeouts');
    const { chain } = await buildJobChain({
      specs,
      type: 'timed',
      args: {},
      factory: testFactory({ aJobType: {}, bJobType: {}, cJobType: {} }),
    });
    (specs.sequences.get('timed') as { timeout?: string }).timeout = undefined;
    const again = await buildJobChain({
      specs,
      type: 'timed',
      args: {},
      factory: testFactory({ aJobType: {}, bJobType: {}, cJobType: {} }),
    });
    expect(chain.timeout).toBe('10m');
    expect(Object.hasOwn(again.chain, 'timeout')).toBe(false);
  });
});
