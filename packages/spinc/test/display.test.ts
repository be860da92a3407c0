/**
 * What a live RM cannot be made to send (it always answers JSON errors, names
 * no user, never leaves a request PENDING): the formatting of those cases,
 * on the pure functions the commands use.
 */
import { ApiError, type Request, type RunningStatus, State } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { psLines } from '../src/commands/ps.js';
import { describeApiError, ExitCode } from '../src/errors.js';
import { progressBar, requestRuntime } from '../src/follow.js';

function request(over: Partial<Request> = {}): Request {
  return {
    id: 'cp0abc0000000000000a',
    type: 'greet',
    state: State.RUNNING,
    user: 'alice',
    args: [],
    createdAt: '2024-05-01T12:00:00Z',
    startedAt: '2024-05-01T12:00:01Z',
    finishedAt: null,
    totalJobs: 4,
    finishedJobs: 1,
    ...over,
  };
}

describe('API error wording', () => {
  const describe400 = (body: unknown) => describeApiError(new ApiError('x', 400, body), 'http://rm', 1000);
  it('an empty body asks to check the logs', () => {
    for (const body of ['', undefined, null]) {
      const e = describe400(body);
      expect(e.message).toBe('no response from API, check logs (HTTP status 400)');
      expect(e.exitCode).toBe(ExitCode.ERROR);
    }
  });
  it('a body without a message is shown raw', () => {
    expect(describe400('plain words\n').message).toBe('API error: plain words (HTTP status 400)');
    expect(describe400({ error: 'odd' }).message).toBe('API error: {"error":"odd"} (HTTP status 400)');
  });
  it('a server message: verbatim for 404, with the status otherwise', () => {
    const msg = { message: 'request in state COMPLETE, expected state RUNNING' };
    expect(describeApiError(new ApiError('x', 409, msg), 'http://rm', 1000).message).toBe(
      'API error: request in state COMPLETE, expected state RUNNING (HTTP status 409)',
    );
    expect(
      describeApiError(new ApiError('x', 404, { message: 'request gone not found' }), 'http://rm', 1000)
        .message,
    ).toBe('request gone not found');
  });
});

describe('ps table', () => {
  it('long users and job names shortened; a job whose request is unknown', () => {
    const now = new Date('2024-05-01T12:00:10Z');
    const nowNs = BigInt(now.getTime()) * 1_000_000n;
    const status: RunningStatus = {
      jobs: [
        {
          requestId: 'cp0abc0000000000000a',
          jobId: 'j1',
          type: 'sleep',
          name: 'a-rather-long-job-name-indeed',
          startedAt: nowNs - 3_000_000_000n,
          state: 2,
          status: 'sleeping',
          try: 1,
        },
        { requestId: 'zzz', jobId: 'j2', type: 'noop', name: 'x', startedAt: nowNs, state: 2, try: 2 },
      ],
      requests: { cp0abc0000000000000a: request({ user: 'averyverylonguser', totalJobs: 9 }) },
    } as RunningStatus;
    expect(psLines(status, now)).toEqual([
      'REQUEST ID                   PRG USER      RUNTIME TRY JOB                    STATUS',
      'greet   cp0abc0000000000000a 11% aver..ser 3s        1 a-rather-l..ame-indeed sleeping',
      'unknown zzz                   0%           0s        2 x',
    ]);
    expect(psLines({ jobs: [], requests: {} } as RunningStatus, now)).toEqual([]);
  });
});

describe('progress of a request that has not started', () => {
  it('runtime "not started", a bar that is never NaN', () => {
    const now = new Date('2024-05-01T13:02:04Z');
    expect(requestRuntime(request({ state: State.PENDING, startedAt: null }), now)).toBe('not started');
    expect(requestRuntime(request({ state: State.COMPLETE, finishedAt: '2024-05-01T13:02:04Z' }), now)).toBe(
      '1h2m3s',
    );
    expect(progressBar(50)).toBe('[###############---------------]  50%');
    expect(progressBar(Number.NaN)).toBe('[------------------------------]   0%');
  });
});
