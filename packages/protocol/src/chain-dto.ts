/**
 * Job chains, suspended job chains and chain batches: the one validator of
 * each, used by the JR (which runs chains) and the RM (which stores suspended
 * ones). The field rules are the class-validator DTOs below. A chain can hold
 * thousands of jobs and class-validator costs tens of microseconds a job, so
 * the envelope and each job first go through a hand-written check of the same
 * rules; only what it refuses goes through the DTO, for the message naming the
 * field. test/chain-dto.property.test.ts proves the two agree.
 *
 * A field the original's Go decoding would leave at its zero value may be
 * absent or null: a job's `name` and `sequenceId` are then "", `retry` and
 * `sequenceRetry` 0, and a null `bytes`, `args`, `data`, backoff or duration
 * field (`retryWait`, `timeout`, …) is dropped.
 */
import { IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Max, Min } from 'class-validator';
import { ValidationError } from './errors.js';
import type { StateValue } from './states.js';
import { isDuration, parseDurationMs } from './time.js';
import { dtoErrors, firstMessage, isPlainObject, toDto } from './validate.js';
import type { Job, JobChain, SuspendedJobChain } from './wire.js';

const count = (field: string) => ({ message: `field '${field}' must be a non-negative integer` });
const str = (field: string) => ({ message: `field '${field}' must be a string` });
const obj = (field: string) => ({ message: `field '${field}' must be a JSON object` });
const MAX_COUNT = Number.MAX_SAFE_INTEGER;
/** Values of `retryBackoff` and `sequenceRetryBackoff`. */
export const RETRY_BACKOFFS = ['constant', 'exponential'] as const;
const backoff = (field: string) => ({
  message: `field '${field}' must be one of: ${RETRY_BACKOFFS.join(', ')}`,
});
/** Job fields that hold a duration string (checked for syntax and sign). */
const JOB_DURATIONS = [
  'retryWait',
  'sequenceRetryWait',
  'retryWaitMax',
  'sequenceRetryWaitMax',
  'timeout',
  'sequenceTimeout',
] as const;

export class JobDto implements Job {
  @IsString(str('id'))
  id!: string;

  @IsString(str('type'))
  type!: string;

  @IsOptional()
  @IsString(str('name'))
  name!: string;

  @IsInt({ message: "field 'state' must be an integer state" })
  state!: StateValue;

  @IsOptional()
  @IsInt(count('retry'))
  @Min(0, count('retry'))
  @Max(MAX_COUNT, count('retry'))
  retry!: number;

  @IsOptional()
  @IsInt(count('sequenceRetry'))
  @Min(0, count('sequenceRetry'))
  @Max(MAX_COUNT, count('sequenceRetry'))
  sequenceRetry!: number;

  @IsOptional()
  @IsString(str('sequenceId'))
  sequenceId!: string;

  @IsOptional()
  @IsString(str('bytes'))
  bytes?: string;

  @IsOptional()
  @IsString(str('retryWait'))
  retryWait?: string;

  @IsOptional()
  @IsString(str('sequenceRetryWait'))
  sequenceRetryWait?: string;

  @IsOptional()
  @IsIn(RETRY_BACKOFFS, backoff('retryBackoff'))
  retryBackoff?: string;

  @IsOptional()
  @IsString(str('retryWaitMax'))
  retryWaitMax?: string;

  @IsOptional()
  @IsString(str('timeout'))
  timeout?: string;

  @IsOptional()
  @IsIn(RETRY_BACKOFFS, backoff('sequenceRetryBackoff'))
  sequenceRetryBackoff?: string;

  @IsOptional()
  @IsString(str('sequenceRetryWaitMax'))
  sequenceRetryWaitMax?: string;

  @IsOptional()
  @IsString(str('sequenceTimeout'))
  sequenceTimeout?: string;

  @IsOptional()
  @IsObject(obj('args'))
  args?: Record<string, unknown>;

  @IsOptional()
  @IsObject(obj('data'))
  data?: Record<string, unknown>;
}

export class JobChainDto implements JobChain {
  @IsString({ message: "field 'requestId' must be a non-empty string" })
  @IsNotEmpty({ message: "field 'requestId' must be a non-empty string" })
  requestId!: string;

  @IsObject({ message: "field 'jobs' must be a JSON object of job id to job" })
  jobs!: Record<string, Job>;

  @IsOptional()
  @IsObject({ message: "field 'adjacencyList' must be a JSON object of job id to job ids" })
  adjacencyList!: Record<string, string[]>;

  @IsOptional()
  @IsInt({ message: "field 'state' must be an integer" })
  state!: StateValue;

  @IsOptional()
  @IsInt(count('finishedJobs'))
  @Min(0, count('finishedJobs'))
  @Max(MAX_COUNT, count('finishedJobs'))
  finishedJobs!: number;

  @IsOptional()
  @IsString(str('timeout'))
  timeout?: string;
}

export class SuspendedJobChainDto implements SuspendedJobChain {
  @IsOptional()
  @IsString(str('requestId'))
  requestId!: string;

  @IsObject({ message: "field 'jobChain' must be a job chain object" })
  jobChain!: JobChain;

  @IsOptional()
  @IsObject({ message: "field 'totalJobTries' must be a JSON object of id to count" })
  totalJobTries!: Record<string, number>;

  @IsOptional()
  @IsObject({ message: "field 'latestRunJobTries' must be a JSON object of id to count" })
  latestRunJobTries!: Record<string, number>;

  @IsOptional()
  @IsObject({ message: "field 'sequenceTries' must be a JSON object of id to count" })
  sequenceTries!: Record<string, number>;
}

const absent = (v: unknown) => v === undefined || v === null;
const isStr = (v: unknown) => typeof v === 'string';
const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
export const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const optStr = (v: unknown) => absent(v) || isStr(v);
const optObj = (v: unknown) => absent(v) || isPlainObject(v);
const optBackoff = (v: unknown) => absent(v) || (RETRY_BACKOFFS as readonly unknown[]).includes(v);

/** The JobDto's rules, hand-written: true exactly when the DTO finds no fault (test/chain-dto.property.test.ts). */
export function isWellFormedJob(j: Record<string, unknown>): boolean {
  return (
    isStr(j.id) &&
    isStr(j.type) &&
    optStr(j.name) &&
    isInt(j.state) &&
    (absent(j.retry) || isCount(j.retry)) &&
    (absent(j.sequenceRetry) || isCount(j.sequenceRetry)) &&
    optStr(j.sequenceId) &&
    optStr(j.bytes) &&
    optStr(j.retryWait) &&
    optStr(j.sequenceRetryWait) &&
    optBackoff(j.retryBackoff) &&
    optStr(j.retryWaitMax) &&
    optStr(j.timeout) &&
    optBackoff(j.sequenceRetryBackoff) &&
    optStr(j.sequenceRetryWaitMax) &&
    optStr(j.sequenceTimeout) &&
    optObj(j.args) &&
    optObj(j.data)
  );
}

/** The JobChainDto's rules, hand-written: true exactly when the DTO finds no fault. */
export function isWellFormedChainEnvelope(c: Record<string, unknown>): boolean {
  return (
    isStr(c.requestId) &&
    c.requestId !== '' &&
    isPlainObject(c.jobs) &&
    optObj(c.adjacencyList) &&
    (absent(c.state) || isInt(c.state)) &&
    (absent(c.finishedJobs) || isCount(c.finishedJobs)) &&
    optStr(c.timeout)
  );
}

const JOB_PROTO = JobDto.prototype;
const CHAIN_PROTO = JobChainDto.prototype;

/** The first fault the DTO finds in `body`, as `field` and message. */
function dtoFault(proto: object, body: Record<string, unknown>) {
  return firstMessage(dtoErrors(toDto(proto, body)));
}

const NULLABLE_JOB_FIELDS = [
  'bytes',
  'args',
  'data',
  'retryBackoff',
  'sequenceRetryBackoff',
  ...JOB_DURATIONS,
] as const;

/** Go-style zero values for absent fields; optional fields that are null are dropped. */
function normalizeJob(job: Record<string, unknown>): void {
  if (absent(job.name)) job.name = '';
  if (absent(job.sequenceId)) job.sequenceId = '';
  if (absent(job.retry)) job.retry = 0;
  if (absent(job.sequenceRetry)) job.sequenceRetry = 0;
  for (const f of NULLABLE_JOB_FIELDS) if (job[f] === null) delete job[f];
}

function checkJob(what: string, key: string, value: unknown): void {
  // Messages are built only on failure: this runs for every job of every chain a JR takes.
  const where = () => `invalid ${what}: job ${key}`;
  if (!isPlainObject(value)) throw new ValidationError(`${where()}: must be a JSON object`, `jobs.${key}`);
  if (!isWellFormedJob(value)) {
    const fault = dtoFault(JOB_PROTO, value);
    if (fault) throw new ValidationError(`${where()}: ${fault.message}`, `jobs.${key}.${fault.field}`);
  }
  if (value.id !== key)
    throw new ValidationError(
      `${where()}: key does not match its id ${JSON.stringify(value.id)}`,
      `jobs.${key}.id`,
    );
  for (const f of JOB_DURATIONS) {
    const v = value[f];
    if (typeof v === 'string' && v !== '') checkDuration(v, `${where()}: field '${f}'`, `jobs.${key}.${f}`);
  }
  normalizeJob(value);
}

/** A duration string field: empty, or a non-negative duration. */
function checkDuration(v: unknown, what: string, field: string): void {
  if (typeof v === 'string' && v !== '' && (!isDuration(v) || parseDurationMs(v) < 0))
    throw new ValidationError(`${what}: "${v}" is not a duration such as 500ms or 1m30s`, field);
}

/**
 * A job chain (`what` names it in messages). The body's objects are checked
 * and completed in place (the chain can be large: nothing is copied); the
 * envelope's absent `adjacencyList`, `state` and `finishedJobs` become {},
 * PENDING and 0. Throws a ValidationError naming the job and field.
 */
export function parseJobChain(body: unknown, what = 'JobChain'): JobChain {
  if (!isPlainObject(body)) throw new ValidationError(`invalid ${what}: body must be a JSON object`);
  if (!isWellFormedChainEnvelope(body)) {
    const fault = dtoFault(CHAIN_PROTO, body);
    if (fault) throw new ValidationError(`invalid ${what}: ${fault.message}`, fault.field);
  }
  const chain = body as unknown as JobChain;
  if (absent(chain.adjacencyList)) chain.adjacencyList = {};
  if (absent(chain.state)) chain.state = 1;
  if (absent(chain.finishedJobs)) chain.finishedJobs = 0;
  if (chain.timeout === null) delete chain.timeout;
  checkDuration(chain.timeout, `invalid ${what}: field 'timeout'`, 'timeout');
  for (const key in chain.jobs) checkJob(what, key, chain.jobs[key]);
  for (const key in chain.adjacencyList) {
    const next = chain.adjacencyList[key];
    if (!Array.isArray(next) || next.some((n) => typeof n !== 'string'))
      throw new ValidationError(
        `invalid ${what}: adjacencyList.${key} must be a list of job ids`,
        `adjacencyList.${key}`,
      );
  }
  return chain;
}

function counters(sjc: Record<string, unknown>, field: string): Record<string, number> {
  const v = sjc[field];
  if (absent(v)) return {};
  const counts = v as Record<string, unknown>;
  for (const k in counts)
    if (!isCount(counts[k]))
      throw new ValidationError(
        `invalid SuspendedJobChain: ${field}.${k} must be a non-negative integer`,
        `${field}.${k}`,
      );
  return counts as Record<string, number>;
}

/**
 * A suspended job chain. Its `requestId` may be left out (the chain's is
 * used; a chain without one takes it); when given, it must be the chain's.
 * Absent counters are empty.
 */
export function parseSuspendedJobChain(body: unknown): SuspendedJobChain {
  if (!isPlainObject(body))
    throw new ValidationError('invalid SuspendedJobChain: body must be a JSON object');
  const fault = dtoFault(SuspendedJobChainDto.prototype, body);
  if (fault) throw new ValidationError(`invalid SuspendedJobChain: ${fault.message}`, fault.field);
  const requestId = body.requestId as string | undefined | null;
  const inner = body.jobChain as Record<string, unknown>;
  if ((inner.requestId === undefined || inner.requestId === '') && typeof requestId === 'string')
    inner.requestId = requestId;
  const chain = parseJobChain(inner, 'SuspendedJobChain.jobChain');
  if (typeof requestId === 'string' && requestId !== '' && requestId !== chain.requestId)
    throw new ValidationError(
      `invalid SuspendedJobChain: requestId ${requestId} does not match jobChain.requestId ${chain.requestId}`,
      'requestId',
    );
  return {
    requestId: chain.requestId,
    jobChain: chain,
    totalJobTries: counters(body, 'totalJobTries'),
    latestRunJobTries: counters(body, 'latestRunJobTries'),
    sequenceTries: counters(body, 'sequenceTries'),
  };
}

/**
 * The envelope of `POST /api/v1/job-chains/batch`: its chains, at most `max`
 * of them, each still to be parsed on its own (one bad chain refuses only itself).
 */
export function parseJobChainBatch(body: unknown, max: number): unknown[] {
  const chains = isPlainObject(body) ? body.chains : undefined;
  if (!Array.isArray(chains))
    throw new ValidationError(
      "invalid JobChainBatch: body must be a JSON object with a 'chains' list",
      'chains',
    );
  if (chains.length > max)
    throw new ValidationError(
      `invalid JobChainBatch: ${chains.length} chains, at most ${max} per call`,
      'chains',
    );
  return chains;
}
