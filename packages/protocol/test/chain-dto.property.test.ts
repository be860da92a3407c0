/**
 * The hand-written checks that let large chains skip class-validator accept
 * and refuse exactly what the DTOs do: for well-formed payloads and for
 * payloads with one field replaced by an arbitrary JSON value (or removed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isWellFormedChainEnvelope,
  isWellFormedJob,
  JobChainDto,
  JobDto,
  parseJobChain,
} from '../src/chain-dto.js';
import { dtoErrors, toDto } from '../src/validate.js';

const dtoAccepts = (proto: object, body: Record<string, unknown>) =>
  dtoErrors(toDto(proto, body)).length === 0;

/** Values of every JSON kind, with the edge numbers the rules care about. */
const anyValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(-1, 0, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER, '', null, [], {}),
);
const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const orNull = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.constant(null));
const object = fc.dictionary(fc.string(), fc.jsonValue());

const validJob = fc.record(
  {
    id: fc.string(),
    type: fc.string(),
    name: orNull(fc.string()),
    state: fc.integer({ min: -5, max: 10 }),
    retry: orNull(count),
    sequenceRetry: orNull(count),
    sequenceId: orNull(fc.string()),
    bytes: orNull(fc.base64String()),
    retryWait: orNull(fc.constantFrom('', '500ms', '1m30s')),
    sequenceRetryWait: orNull(fc.constantFrom('', '2s')),
    retryBackoff: orNull(fc.constantFrom('constant', 'exponential')),
    retryWaitMax: orNull(fc.constantFrom('', '1m')),
    timeout: orNull(fc.constantFrom('', '500ms', '30s')),
    sequenceRetryBackoff: orNull(fc.constantFrom('constant', 'exponential')),
    sequenceRetryWaitMax: orNull(fc.constantFrom('', '5m')),
    sequenceTimeout: orNull(fc.constantFrom('', '10m')),
    args: orNull(object),
    data: orNull(object),
  },
  { requiredKeys: ['id', 'type', 'state'] },
);

const validEnvelope = fc.record(
  {
    requestId: fc.string({ minLength: 1 }),
    jobs: fc.constant({}),
    adjacencyList: maybe(orNull(fc.dictionary(fc.string(), fc.array(fc.string())))),
    state: orNull(fc.integer()),
    finishedJobs: orNull(count),
    timeout: orNull(fc.constantFrom('', '1h')),
  },
  { requiredKeys: ['requestId', 'jobs'] },
);

/** The payload with one of `fields` set to an arbitrary value, or removed. */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>, fields: string[]) {
  return fc.tuple(valid, fc.constantFrom(...fields), maybe(anyValue)).map(([body, field, value]) => {
    const copy: Record<string, unknown> = { ...body };
    if (value === undefined) delete copy[field];
    else copy[field] = value;
    return copy;
  });
}

const JOB_FIELDS = [
  'id',
  'type',
  'name',
  'state',
  'retry',
  'sequenceRetry',
  'sequenceId',
  'bytes',
  'retryWait',
  'sequenceRetryWait',
  'retryBackoff',
  'retryWaitMax',
  'timeout',
  'sequenceRetryBackoff',
  'sequenceRetryWaitMax',
  'sequenceTimeout',
  'args',
  'data',
];
const ENVELOPE_FIELDS = ['requestId', 'jobs', 'adjacencyList', 'state', 'finishedJobs', 'timeout'];

describe('chain fast paths match the DTOs', () => {
  it('well-formed jobs pass both', () => {
    fc.assert(
      fc.property(validJob, (job) => {
        expect(isWellFormedJob(job)).toBe(true);
        expect(dtoAccepts(JobDto.prototype, job)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated jobs: the fast path accepts exactly what the DTO accepts', () => {
    fc.assert(
      fc.property(mutated(validJob, JOB_FIELDS), (job) => {
        expect(isWellFormedJob(job)).toBe(dtoAccepts(JobDto.prototype, job));
      }),
      { numRuns: 2000 },
    );
  });

  it('well-formed and mutated chain envelopes: the fast path accepts exactly what the DTO accepts', () => {
    fc.assert(
      fc.property(validEnvelope, (c) => {
        expect(isWellFormedChainEnvelope(c)).toBe(true);
        expect(dtoAccepts(JobChainDto.prototype, c)).toBe(true);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(mutated(validEnvelope, ENVELOPE_FIELDS), (c) => {
        expect(isWellFormedChainEnvelope(c)).toBe(dtoAccepts(JobChainDto.prototype, c));
      }),
      { numRuns: 2000 },
    );
  });

  it('a job the fast path refuses is refused by parseJobChain with the field the DTO names', () => {
    fc.assert(
      fc.property(mutated(validJob, JOB_FIELDS), (job) => {
        fc.pre(!isWellFormedJob(job));
        const field = dtoErrors(toDto(JobDto.prototype, job))[0]?.property;
        expect(() => parseJobChain({ requestId: 'r', jobs: { k: job } })).toThrow(`field '${field}'`);
      }),
      { numRuns: 500 },
    );
  });
});
