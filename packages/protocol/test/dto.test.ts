import { describe, expect, it } from 'vitest';
import { parseJobChain, parseSuspendedJobChain } from '../src/chain-dto.js';
import {
  JobLogDto,
  parseCreateRequest,
  parseFinishRequest,
  parseJobLog,
  parseJobLogs,
  parseReportBatch,
  parseRequestProgress,
} from '../src/dto.js';
import { ValidationError } from '../src/errors.js';

const log = {
  requestId: 'r',
  jobId: 'abcd',
  try: 1,
  name: 'n',
  type: 't',
  startedAt: 1554230366094196500n,
  finishedAt: '1554230367094791700',
  state: 3,
};
const job = { id: 'a', name: 'a', type: 'noop', state: 1, retry: 0, sequenceId: 'a', sequenceRetry: 0 };
const finish = { requestId: 'r', state: 3, finishedAt: '2019-04-02T18:39:26Z', finishedJobs: 2 };

describe('payload DTOs', () => {
  it('accepts a job log, filling optional fields and making times bigint', () => {
    const e = parseJobLog(log);
    expect(e.finishedAt).toBe(1554230367094791700n);
    expect([e.exit, e.error, e.stdout, e.stderr]).toEqual([0, '', '', '']);
  });
  it('names the bad field of a job log, with the batch position', () => {
    expect(() => parseJobLog({ ...log, try: -1 })).toThrow(/field 'try'/);
    expect(() => parseJobLog({ ...log, startedAt: 'soon' })).toThrow(/field 'startedAt'/);
    expect(() => parseJobLog({ ...log, state: 42 })).toThrow(/field 'state'/);
    expect(() => parseJobLogs([log, { ...log, jobId: 7 }])).toThrow(
      /^entry 1: invalid JobLog: field 'jobId'/,
    );
    expect(() => parseJobLogs({})).toThrow(ValidationError);
  });
  it('matches CreateRequest keys case-insensitively and rejects an empty type', () => {
    expect(parseCreateRequest({ Type: 'test', Args: { a: '1' } })).toMatchObject({
      type: 'test',
      args: { a: '1' },
    });
    expect(parseCreateRequest({ type: 'test' }).args).toEqual({});
    expect(() => parseCreateRequest({ args: {} })).toThrow('Type is empty, must be a request name');
    expect(() => parseCreateRequest({ type: 'test', args: [] })).toThrow(/field 'args'/);
    expect(() => parseCreateRequest('x')).toThrow(/body must be a JSON object/);
  });
  it('accepts only final states in finish, and valid progress', () => {
    expect(
      parseFinishRequest({ requestId: 'r', state: 3, finishedAt: '2019-04-02T18:39:26Z', finishedJobs: 2 })
        .state,
    ).toBe(3);
    expect(() =>
      parseFinishRequest({ requestId: 'r', state: 2, finishedAt: '2019-04-02T18:39:26Z', finishedJobs: 2 }),
    ).toThrow(/field 'state'/);
    expect(() =>
      parseFinishRequest({ requestId: 'r', state: 3, finishedAt: 'yesterday', finishedJobs: 2 }),
    ).toThrow(/field 'finishedAt'/);
    expect(() => parseRequestProgress({ requestId: 'r', finishedJobs: 1.5 })).toThrow(/field 'finishedJobs'/);
  });
  it('a finishedAt of the RFC 3339 pattern that is no time (month 13, 25:00) is refused by the parser itself', () => {
    for (const finishedAt of ['2030-13-01T00:00:00Z', '2030-01-01T25:00:00Z'])
      expect(() => parseFinishRequest({ requestId: 'r', state: 3, finishedAt, finishedJobs: 0 })).toThrow(
        `invalid FinishRequest: field 'finishedAt': finishedAt must be an RFC 3339 time, got '${finishedAt}'`,
      );
  });
  it('a "constructor" or "__proto__" key in a body is no field and cannot get past the checks (a crash, or no checks at all)', () => {
    // JSON.parse, as the HTTP edge reads bodies: "__proto__" is an ordinary own key there.
    const p = (text: string) => JSON.parse(text) as unknown;
    // Was a TypeError (a 500): class-validator found the rules through a null constructor.
    expect(() => parseFinishRequest(p('{"constructor":null}'))).toThrow(
      /^invalid FinishRequest: field 'state'/,
    );
    expect(() => parseRequestProgress(p('{"constructor":null}'))).toThrow(/field 'requestId'/);
    // Were accepted with every field missing: the rules of the class were not found at all.
    expect(() => parseFinishRequest(p('{"constructor":{}}'))).toThrow(/field 'state'/);
    expect(() => parseFinishRequest(p('{"__proto__":{}}'))).toThrow(/field 'state'/);
    expect(() =>
      parseJobChain({ requestId: 'r', jobs: { a: { ...job, retry: 'x', constructor: null } } }),
    ).toThrow(/job a: field 'retry'/);
    // Fields smuggled in through a prototype were stored as they came ({} as stdout: a 500).
    const e = parseJobLog(
      p(`{"jobId":"a","try":1,"name":"n","type":"t","startedAt":1,"finishedAt":2,"state":3,
      "__proto__":{"stdout":{"a":1},"exit":"zz"},"constructor":5}`),
    );
    expect([e.stdout, e.exit]).toEqual(['', 0]);
    expect(Object.getPrototypeOf(e)).toBe(JobLogDto.prototype);
    expect(Object.hasOwn(e, 'constructor')).toBe(false);
    expect(parseFinishRequest({ ...(p('{"__proto__":{"x":1}}') as object), ...finish })).toMatchObject(
      finish,
    );
  });
  it('checks the timeout and backoff fields of jobs and of the chain', () => {
    const chain = (jobFields: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      requestId: 'r',
      jobs: { a: { ...job, ...jobFields } },
      ...extra,
    });
    const ok = parseJobChain(
      chain(
        { timeout: '30s', retryBackoff: 'exponential', retryWaitMax: '1m', sequenceTimeout: '5m' },
        { timeout: '1h' },
      ),
    );
    expect(ok.timeout).toBe('1h');
    expect(ok.jobs.a).toMatchObject({ timeout: '30s', retryBackoff: 'exponential', retryWaitMax: '1m' });
    expect(() => parseJobChain(chain({ timeout: '30 s' }))).toThrow(/job a: field 'timeout': "30 s"/);
    expect(() => parseJobChain(chain({ sequenceTimeout: '-1s' }))).toThrow(/field 'sequenceTimeout'/);
    expect(() => parseJobChain(chain({ retryBackoff: 'linear' }))).toThrow(
      /job a: field 'retryBackoff' must be one of: constant, exponential/,
    );
    expect(() => parseJobChain(chain({}, { timeout: 'soon' }))).toThrow(/field 'timeout': "soon"/);
    expect(parseJobChain(chain({ timeout: null }, { timeout: null })).timeout).toBeUndefined();
  });
  it('validates every job of a chain and names the job', () => {
    const chain = {
      requestId: 'r',
      jobs: { a: job, b: { ...job, id: 'b', retryWait: '5' } },
      adjacencyList: { a: ['b'] },
      state: 1,
      finishedJobs: 0,
    };
    expect(() => parseJobChain(chain)).toThrow(/job b: field 'retryWait': "5" is not a duration/);
    expect(() => parseJobChain({ ...chain, jobs: { a: { ...job, retry: 'x' } } })).toThrow(
      /job a: field 'retry'/,
    );
    expect(() => parseJobChain({ ...chain, jobs: { x: job } })).toThrow(
      /job x: key does not match its id "a"/,
    );
    expect(parseJobChain({ requestId: 'r', jobs: { a: job } }).adjacencyList).toEqual({});
    expect(() =>
      parseSuspendedJobChain({
        requestId: 'r',
        jobChain: { requestId: 'r', jobs: { a: { ...job, id: 3 } } },
        totalJobTries: {},
        latestRunJobTries: {},
        sequenceTries: {},
      }),
    ).toThrow(/SuspendedJobChain.jobChain/);
  });
  it('parses a report batch: parts default to empty, bad finishes are set aside by id, anything else bad is a 400 naming the item', () => {
    const fin = { requestId: 'f', state: 3, finishedAt: '2019-04-02T18:39:26.5Z', finishedJobs: 2 };
    const b = parseReportBatch({
      logs: [log],
      progress: [{ requestId: 'p', finishedJobs: 4 }],
      finishes: [fin],
    });
    expect(b.logs[0]?.finishedAt).toBe(1554230367094791700n);
    expect(b.progress).toEqual([{ requestId: 'p', finishedJobs: 4 }]);
    expect(b.finishes).toEqual([fin]);
    expect(b.invalidFinishes).toEqual([]);
    expect(parseReportBatch({})).toEqual({ logs: [], progress: [], finishes: [], invalidFinishes: [] });
    const bad = parseReportBatch({
      finishes: [
        fin,
        { ...fin, requestId: 'running', state: 2 },
        { ...fin, requestId: 'when', finishedAt: '2019-13-45T00:00:00Z' },
        { ...fin, requestId: 'n', finishedJobs: -1 },
      ],
    });
    expect(bad.finishes.map((f) => f.requestId)).toEqual(['f']);
    expect(bad.invalidFinishes.map((f) => f.requestId)).toEqual(['running', 'when', 'n']);
    expect(bad.invalidFinishes[0]?.message).toMatch(/field 'state': state must be a final state/);
    expect(() => parseReportBatch([])).toThrow(/invalid ReportBatch: body must be a JSON object/);
    expect(() => parseReportBatch({ logs: {} })).toThrow(/field 'logs': logs must be a list/);
    expect(() => parseReportBatch({ logs: [log, { ...log, try: -1 }] })).toThrow(
      /^invalid ReportBatch: logs\[1\]: invalid JobLog: field 'try'/,
    );
    expect(() => parseReportBatch({ logs: [{ ...log, requestId: '' }] })).toThrow(
      /logs\[0\]: invalid JobLog: field 'requestId': requestId must be set/,
    );
    expect(() => parseReportBatch({ progress: [{ requestId: 'p', finishedJobs: 'x' }] })).toThrow(
      /progress\[0\]: invalid RequestProgress: field 'finishedJobs'/,
    );
    expect(() => parseReportBatch({ progress: [{ requestId: '', finishedJobs: 1 }] })).toThrow(
      /progress\[0\]: .*requestId must be set/,
    );
    expect(() => parseReportBatch({ finishes: [{ ...fin, requestId: '' }] })).toThrow(
      /finishes\[0\]: .*requestId must be set/,
    );
  });
});
