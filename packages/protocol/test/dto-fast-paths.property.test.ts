/**
 * The hand-written checks that let job-log entries, report batches and new
 * requests skip class-validator accept exactly what the DTOs (with the few
 * rules the parsers add after them) accept: for well-formed payloads and for
 * payloads with one field replaced by an arbitrary JSON value (or removed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CreateRequestDto,
  FinishRequestDto,
  isWellFormedCreate,
  isWellFormedFinish,
  isWellFormedJobLog,
  isWellFormedProgress,
  JobLogDto,
  RequestProgressDto,
} from '../src/dto.js';
import { isStateValue } from '../src/states.js';
import { parseRfc3339 } from '../src/time.js';
import { dtoErrors, isPlainObject, toDto } from '../src/validate.js';

const dtoAccepts = (proto: object, body: Record<string, unknown>) =>
  dtoErrors(toDto(proto, body)).length === 0;

/** Unix nanoseconds as the parsers take them (checked after the DTO). */
const nanos = (v: unknown) =>
  typeof v === 'bigint' ||
  (typeof v === 'number' && Number.isInteger(v)) ||
  (typeof v === 'string' && /^\d+$/.test(v));

const anyValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(-1, 0, 1.5, 3, 7, 8, 2 ** 53, '', '12', '-1', null, [], {}, '2024-13-01T00:00:00Z'),
);
const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const orNull = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.constant(null));
const time = fc.constantFrom(
  '2024-05-01T10:00:00Z',
  '2024-05-01T10:00:00.123456789+02:00',
  '2024-02-29 23:59:59z',
);

function mutated(valid: fc.Arbitrary<Record<string, unknown>>, fields: string[]) {
  return fc.tuple(valid, fc.constantFrom(...fields), maybe(anyValue)).map(([body, field, value]) => {
    const copy: Record<string, unknown> = { ...body };
    if (value === undefined) delete copy[field];
    else copy[field] = value;
    return copy;
  });
}

function agree(
  valid: fc.Arbitrary<Record<string, unknown>>,
  fields: string[],
  fast: (b: Record<string, unknown>) => boolean,
  slow: (b: Record<string, unknown>) => boolean,
): void {
  fc.assert(
    fc.property(valid, (b) => {
      expect(fast(b)).toBe(true);
      expect(slow(b)).toBe(true);
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(mutated(valid, fields), (b) => {
      expect(fast(b)).toBe(slow(b));
    }),
    { numRuns: 2000 },
  );
}

const validJobLog = fc.record(
  {
    requestId: orNull(fc.string()),
    jobId: fc.string(),
    try: count,
    name: fc.string(),
    type: fc.string(),
    startedAt: fc.oneof(count, fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String)),
    finishedAt: fc.oneof(count, fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String)),
    state: fc.integer({ min: 0, max: 7 }),
    exit: orNull(fc.integer()),
    error: orNull(fc.string()),
    stdout: orNull(fc.string()),
    stderr: orNull(fc.string()),
  },
  { requiredKeys: ['jobId', 'try', 'name', 'type', 'startedAt', 'finishedAt', 'state'] },
);
const JOB_LOG_FIELDS = [
  'requestId',
  'jobId',
  'try',
  'name',
  'type',
  'startedAt',
  'finishedAt',
  'state',
  'exit',
  'error',
  'stdout',
  'stderr',
];

const validProgress = fc.record({ requestId: fc.string({ minLength: 1 }), finishedJobs: count });

const validFinish = fc.record({
  requestId: fc.string({ minLength: 1 }),
  state: fc.constantFrom(3, 4, 6),
  finishedAt: time,
  finishedJobs: count,
});

const validCreate = fc.record(
  { type: fc.string({ minLength: 1 }), args: maybe(fc.dictionary(fc.string(), fc.jsonValue())) },
  { requiredKeys: ['type'] },
);

describe('dto fast paths match the DTOs', () => {
  it('job-log entries', () => {
    agree(
      validJobLog,
      JOB_LOG_FIELDS,
      isWellFormedJobLog,
      (e) =>
        dtoAccepts(JobLogDto.prototype, e) &&
        nanos(e.startedAt) &&
        nanos(e.finishedAt) &&
        isStateValue(e.state),
    );
  });

  it('report batch progress items (a non-empty request id)', () => {
    agree(
      validProgress,
      ['requestId', 'finishedJobs'],
      isWellFormedProgress,
      (p) =>
        dtoAccepts(RequestProgressDto.prototype, p) && typeof p.requestId === 'string' && p.requestId !== '',
    );
  });

  it('report batch finishes (their id checked before): the DTO plus a real date', () => {
    agree(
      validFinish,
      ['state', 'finishedAt', 'finishedJobs'],
      isWellFormedFinish,
      (f) => dtoAccepts(FinishRequestDto.prototype, f) && parseRfc3339(f.finishedAt as string) !== undefined,
    );
  });

  it('new requests (keys folded, null args dropped)', () => {
    // parseCreateRequest drops a null args before either check.
    const folded = (c: Record<string, unknown>) => (c.args === null ? { ...c, args: undefined } : c);
    agree(
      validCreate,
      ['type', 'args'],
      (c) => isWellFormedCreate(folded(c)),
      (c) => isPlainObject(c) && dtoAccepts(CreateRequestDto.prototype, folded(c)),
    );
  });
});
