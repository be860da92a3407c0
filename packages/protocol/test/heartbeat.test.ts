/** The heartbeat body as the RM reads it (protocol owns its one validator). */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { parseHeartbeat } from '../src/heartbeat.js';

describe('parseHeartbeat', () => {
  it('reads a heartbeat: the URL without trailing slashes, missing parts as empty', () => {
    expect(
      parseHeartbeat({
        jrURL: 'https://jr1:32307//',
        instance: 'i1',
        startedAt: '2030-01-02T03:04:05Z',
        draining: true,
        requests: [{ requestId: 'r1', jobs: [{ jobId: 'a', name: 'n', type: 't', try: 2 }] }],
      }),
    ).toEqual({
      jrURL: 'https://jr1:32307',
      instance: 'i1',
      startedAt: '2030-01-02T03:04:05Z',
      draining: true,
      requests: [{ requestId: 'r1', jobs: [{ jobId: 'a', name: 'n', type: 't', try: 2 }] }],
    });
    expect(parseHeartbeat({ jrURL: 'http://jr' })).toEqual({
      jrURL: 'http://jr',
      instance: '',
      startedAt: '',
      draining: false,
      requests: [],
    });
  });

  it('refuses a body that is no heartbeat with a 400 naming the field', () => {
    for (const [body, message] of [
      [[], 'invalid JobRunnerHeartbeat: body must be a JSON object'],
      [{ jrURL: 'ftp://jr' }, "invalid JobRunnerHeartbeat: 'jrURL' must be the JR's http(s) base URL"],
      [
        { jrURL: 'http://jr', startedAt: 'yesterday' },
        "invalid JobRunnerHeartbeat: 'startedAt' must be an RFC 3339 time",
      ],
      [{ jrURL: 'http://jr', requests: {} }, "invalid JobRunnerHeartbeat: 'requests' must be a list"],
      [
        { jrURL: 'http://jr', requests: [{}] },
        'invalid JobRunnerHeartbeat: requests[0].requestId must be a request id',
      ],
    ] as const) {
      expect(() => parseHeartbeat(body)).toThrow(ValidationError);
      expect(() => parseHeartbeat(body)).toThrow(message);
    }
  });
});
