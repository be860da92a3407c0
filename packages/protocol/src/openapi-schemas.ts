/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the wire types in
 * wire.ts. They sit next to the DTOs they describe and are kept in step with
 * them by a property test (test/openapi-schemas.property.test.ts): the DTO
 * parsers and these schemas accept and refuse the same generated payloads.
 * Payloads the DTOs take loosely (extra keys) are open here too.
 */

export type JsonSchema = { [key: string]: unknown };

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const str: JsonSchema = { type: 'string' };
const nat: JsonSchema = { type: 'integer', minimum: 0 };
const bool: JsonSchema = { type: 'boolean' };
const obj = (properties: Record<string, JsonSchema>, required: string[] = [], extra = {}): JsonSchema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...extra,
});
const mapOf = (value: JsonSchema): JsonSchema => ({ type: 'object', additionalProperties: value });
const listOf = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
const nullable = (s: JsonSchema): JsonSchema => ({ oneOf: [s, { type: 'null' }] });

/** The RFC 3339 form the DTOs take (a space or `t` for `T` too). */
export const RFC3339_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$';
const time: JsonSchema = { type: 'string', pattern: RFC3339_PATTERN, description: 'RFC 3339 time' };

export const SCHEMAS: Record<string, JsonSchema> = {
  ErrorBody: obj({ message: str, requestId: str, httpStatus: { type: 'integer' } }, [
    'message',
    'requestId',
    'httpStatus',
  ]),
  State: {
    type: 'integer',
    minimum: 0,
    maximum: 7,
    description:
      '0 UNKNOWN, 1 PENDING, 2 RUNNING, 3 COMPLETE, 4 FAIL, 5 RESERVED, 6 STOPPED, 7 SUSPENDED (requests and chains only)',
  },
  FinalState: { enum: [3, 4, 6], description: '3 COMPLETE, 4 FAIL, 6 STOPPED' },
  UnixNanos: {
    description: 'Unix time in nanoseconds: a JSON integer of any size, or its decimal digits as a string',
    oneOf: [{ type: 'integer' }, { type: 'string', pattern: '^\\d+$' }],
  },
  CreateRequest: obj(
    {
      type: {
        type: 'string',
        minLength: 1,
        description: 'the request type (keys are matched case-insensitively)',
      },
      args: nullable({ type: 'object', description: 'arg name to value' }),
    },
    ['type'],
  ),
  RequestArg: obj(
    {
      Pos: { type: 'integer' },
      Name: str,
      Desc: str,
      Type: { enum: ['required', 'optional', 'static'] },
      Given: bool,
      Default: {},
      Value: {},
      Secret: bool,
    },
    ['Pos', 'Name', 'Desc', 'Type', 'Given'],
  ),
  RequestSpec: obj({ Name: str, Args: listOf(ref('RequestArg')) }, ['Name', 'Args']),
  Job: obj(
    {
      id: str,
      name: str,
      type: str,
      bytes: str,
      state: ref('State'),
      args: { type: 'object' },
      data: { type: 'object' },
      retry: nat,
      retryWait: str,
      sequenceId: str,
      sequenceRetry: nat,
      sequenceRetryWait: str,
    },
    ['id', 'type', 'state'],
  ),
  JobChain: obj(
    {
      requestId: str,
      jobs: mapOf(ref('Job')),
      adjacencyList: mapOf(listOf(str)),
      state: ref('State'),
      finishedJobs: nat,
    },
    ['requestId', 'jobs'],
  ),
  Request: obj(
    {
      id: str,
      type: str,
      state: ref('State'),
      user: str,
      args: listOf(ref('RequestArg')),
      createdAt: time,
      startedAt: nullable(time),
      finishedAt: nullable(time),
      JobChain: ref('JobChain'),
      totalJobs: nat,
      finishedJobs: nat,
      jrURL: str,
    },
    ['id', 'type', 'state', 'user', 'createdAt', 'startedAt', 'finishedAt', 'totalJobs', 'finishedJobs'],
  ),
  /** A dry run's answer: a Request that was not created. */
  Plan: obj(
    {
      type: str,
      state: ref('State'),
      user: str,
      args: listOf(ref('RequestArg')),
      JobChain: ref('JobChain'),
      totalJobs: nat,
      finishedJobs: nat,
    },
    ['type', 'state', 'args', 'JobChain', 'totalJobs'],
  ),
  JobLog: obj(
    {
      requestId: nullable(str),
      jobId: str,
      try: nat,
      name: str,
      type: str,
      startedAt: ref('UnixNanos'),
      finishedAt: ref('UnixNanos'),
      state: ref('State'),
      exit: nullable({ type: 'number' }),
      error: nullable(str),
      stdout: nullable(str),
      stderr: nullable(str),
    },
    ['jobId', 'try', 'name', 'type', 'startedAt', 'finishedAt', 'state'],
  ),
  JobStatus: obj(
    {
      requestId: str,
      jobId: str,
      type: str,
      name: str,
      startedAt: ref('UnixNanos'),
      state: ref('State'),
      status: str,
      try: nat,
    },
    ['requestId', 'jobId', 'type', 'name', 'startedAt', 'state', 'try'],
  ),
  RunningStatus: obj(
    {
      jobs: listOf(ref('JobStatus')),
      requests: mapOf(ref('Request')),
      unreachable: listOf(obj({ jrURL: str, error: str }, ['jrURL', 'error'])),
    },
    ['jobs', 'requests'],
  ),
  Explanation: obj(
    {
      requestId: str,
      state: str,
      final: bool,
      reasons: listOf(ref('Reason')),
      jobs: listOf(
        obj({ jobId: str, name: str, type: str, state: str, reasons: listOf(ref('Reason')) }, [
          'jobId',
          'reasons',
        ]),
      ),
    },
    ['requestId', 'state', 'final', 'reasons', 'jobs'],
  ),
  Reason: obj({ kind: str, message: str }, ['kind', 'message'], {
    description: 'one reason; further keys by kind',
  }),
  JobRunnerInfo: obj(
    {
      jrURL: str,
      instance: str,
      startedAt: nullable(time),
      lastSeen: time,
      chains: nat,
      draining: bool,
      live: bool,
    },
    ['jrURL', 'instance', 'startedAt', 'lastSeen', 'chains', 'draining', 'live'],
  ),
  FinishRequest: obj(
    { requestId: nullable(str), state: ref('FinalState'), finishedAt: time, finishedJobs: nat },
    ['state', 'finishedAt', 'finishedJobs'],
  ),
  RequestProgress: obj({ requestId: str, finishedJobs: nat }, ['requestId', 'finishedJobs']),
  ReportBatch: obj({
    logs: nullable(listOf(ref('JobLog'))),
    progress: nullable(listOf(ref('RequestProgress'))),
    finishes: nullable(listOf(ref('FinishRequest'))),
  }),
  FinishOutcome: { enum: ['ok', 'not_running', 'not_found', 'invalid', 'other_jr'] },
  ReportResult: obj({ inserted: nat, refused: listOf(str), finishes: mapOf(ref('FinishOutcome')) }, [
    'inserted',
    'refused',
    'finishes',
  ]),
  JobLogsResult: obj({ inserted: nat, refused: listOf(str) }, ['inserted']),
  SuspendedJobChain: obj(
    {
      requestId: str,
      jobChain: ref('JobChain'),
      totalJobTries: mapOf(nat),
      latestRunJobTries: mapOf(nat),
      sequenceTries: mapOf(nat),
    },
    ['requestId', 'jobChain'],
  ),
  JobRunnerHeartbeat: obj(
    {
      jrURL: { type: 'string', pattern: '^https?://[^/]+' },
      instance: { description: 'the JR process (other types are ignored)' },
      startedAt: {
        description: 'RFC 3339 time or empty (other types are ignored)',
        if: { type: 'string' },
        then: { anyOf: [time, { const: '' }] },
      },
      draining: { description: 'true while it hands its chains back (only true counts)' },
      requests: listOf(
        obj(
          {
            requestId: { type: 'string', minLength: 1 },
            jobs: { anyOf: [listOf(obj({ jobId: str }, ['jobId'])), { not: { type: 'array' } }] },
          },
          ['requestId'],
        ),
      ),
    },
    ['jrURL'],
  ),
  JobRunnerHeartbeatReply: obj({ drop: listOf(str), leaseMs: nat }, ['drop', 'leaseMs']),
  JobChainBatch: obj({ chains: { type: 'array', maxItems: 1000, items: ref('JobChain') } }, ['chains']),
  JobChainBatchResult: obj(
    {
      jrURL: str,
      results: listOf(
        obj({ requestId: str, status: { enum: [200, 400, 409] }, message: str }, ['requestId', 'status']),
      ),
    },
    ['jrURL', 'results'],
  ),
};
