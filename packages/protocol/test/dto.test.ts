import { describe, expect, it } from 'vitest';
import {
  parseCreateRequest,
  parseFinishRequest,
  parseJobChain,
  parseJobLog,
  parseJobLogs,
  parseRequestProgress,
  parseSuspendedJobChain,
} from '../src/dto.js';
import { ValidationError } from '../src/errors.js';

const log = { requestId: 'r', jobId: 'abcd', try: 1, name: 'n', type: 't', startedAt: 1554230366094196500n, finishedAt: '1554230367094791700', state: 3 };
const job = { id: 'a', name: 'a', type: 'noop', state: 1, retry: 0, sequenceId: 'a', sequenceRetry: 0 };

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
    expect(() => parseJobLogs([log, { ...log, jobId: 7 }])).toThrow(/^entry 1: invalid JobLog: field 'jobId'/);
    expect(() => parseJobLogs({})).toThrow(ValidationError);
  });
  it('matches CreateRequest keys case-insensitively and rejects an empty type', () => {
    expect(parseCreateRequest({ Type: 'test', Args: { a: '1' } })).toMatchObject({ type: 'test', args: { a: '1' } });
    expect(parseCreateRequest({ type: 'test' }).args).toEqual({});
    expect(() => parseCreateRequest({ args: {} })).toThrow('Type is empty, must be a request name');
    expect(() => parseCreateRequest({ type: 'test', args: [] })).toThrow(/field 'args'/);
    expect(() => parseCreateRequest('x')).toThrow(/body must be a JSON object/);
  });
  it('accepts only final states in finish, and valid progress', () => {
    expect(parseFinishRequest({ requestId: 'r', state: 3, finishedAt: '2019-04-02T18:39:26Z', finishedJobs: 2 }).state).toBe(3);
    expect(() => parseFinishRequest({ requestId: 'r', state: 2, finishedAt: '2019-04-02T18:39:26Z', finishedJobs: 2 })).toThrow(/field 'state'/);
    expect(() => parseFinishRequest({ requestId: 'r', state: 3, finishedAt: 'yesterday', finishedJobs: 2 })).toThrow(/field 'finishedAt'/);
    expect(() => parseRequestProgress({ requestId: 'r', finishedJobs: 1.5 })).toThrow(/field 'finishedJobs'/);
  });
  it('validates every job of a chain and names the job', () => {
    const chain = { requestId: 'r', jobs: { a: job, b: { ...job, id: 'b', retryWait: '5' } }, adjacencyList: { a: ['b'] }, state: 1, finishedJobs: 0 };
    expect(() => parseJobChain(chain)).toThrow(/job b: field 'retryWait': "5" is not a duration/);
    expect(() => parseJobChain({ ...chain, jobs: { a: { ...job, retry: 'x' } } })).toThrow(/job a: field 'retry'/);
    expect(() => parseJobChain({ ...chain, jobs: { x: job } })).toThrow(/job key x does not match its id a/);
    expect(parseJobChain({ requestId: 'r', jobs: { a: job } }).adjacencyList).toEqual({});
    expect(() => parseSuspendedJobChain({ requestId: 'r', jobChain: { requestId: 'r', jobs: { a: { ...job, id: 3 } } }, totalJobTries: {}, latestRunJobTries: {}, sequenceTries: {} })).toThrow(/SuspendedJobChain.jobChain/);
  });
});
