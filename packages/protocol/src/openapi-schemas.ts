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

/**
 * One Server-Sent Event of GET …/events as an EventSource parses it (`data`
 * decoded as JSON): which `data` goes with which `event`. OpenAPI 3.1 has no
 * place for the schema of one event of a stream, so the document carries it in
 * the extension `x-event-schema` of the text/event-stream content.
 */
export const REQUEST_EVENT: JsonSchema = {
  description:
    'one event of the stream: `id` is the cursor after it (send it back as Last-Event-ID), `event` its name, `data` its JSON',
  oneOf: [
    sseEvent('log', ref('JobLog'), 'a job-log entry, as GET …/log gives it; each try in storage order'),
    sseEvent(
      'progress',
      obj({ requestId: str, finishedJobs: nat, totalJobs: nat }, ['requestId', 'finishedJobs', 'totalJobs']),
      'finishedJobs changed',
    ),
    sseEvent('state', ref('Request'), 'the request (no args, no chain) after a change to a non-final state'),
    sseEvent('final', ref('Request'), 'the request in its final state; the last event, the stream then ends'),
  ],
};

function sseEvent(name: string, data: JsonSchema, when: string): JsonSchema {
  return obj({ id: str, event: { const: name }, data }, ['id', 'event', 'data'], { description: when });
}

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
      waitingFor: {
        ...listOf(ref('LockHolder')),
        description: 'a PENDING request waiting for locks: their holders (create and get)',
      },
      notifications: {
        ...listOf(ref('Notification')),
        description: 'webhook deliveries of a finished request of a type with `notify:` (get)',
      },
    },
    ['id', 'type', 'state', 'user', 'createdAt', 'startedAt', 'finishedAt', 'totalJobs', 'finishedJobs'],
  ),
  LockHolder: obj({ name: str, value: str, requestId: str }, ['name', 'value', 'requestId'], {
    description: 'the lock of arg `name` = `value`, held by request `requestId`',
  }),
  Notification: obj(
    {
      url: { type: 'string', description: 'without query string or user info' },
      status: { enum: ['pending', 'delivered', 'failed'] },
      attempts: nat,
      httpStatus: { type: 'integer', description: 'of the last attempt that got an answer' },
      lastError: str,
      updatedAt: time,
    },
    ['url', 'status', 'attempts', 'updatedAt'],
  ),
  /** A dry run's answer (RequestPlan): the request a create would make, nothing stored. */
  RequestPlan: obj(
    {
      type: str,
      state: { const: 1, description: 'PENDING' },
      user: str,
      args: listOf(ref('RequestArg')),
      startedAt: { type: 'null' },
      finishedAt: { type: 'null' },
      JobChain: ref('JobChain'),
      totalJobs: nat,
      finishedJobs: nat,
    },
    ['type', 'state', 'user', 'args', 'JobChain', 'totalJobs', 'finishedJobs'],
    {
      description:
        'a Request without id, createdAt and jrURL; its chain has requestId "" and secret arg values are `[redacted]`',
    },
  ),
  Schedule: obj(
    {
      name: str,
      cron: str,
      timezone: str,
      type: str,
      missed: { enum: ['skip', 'run-once'] },
      nextRun: nullable(time),
      lastRun: nullable(
        obj(
          {
            dueAt: time,
            outcome: { enum: ['created', 'skipped', 'failed'] },
            requestId: nullable(str),
            state: nullable({ type: 'string', description: "the request's state name now" }),
            error: { type: 'string', description: 'why the run failed' },
          },
          ['dueAt', 'outcome', 'requestId', 'state'],
        ),
      ),
    },
    ['name', 'cron', 'timezone', 'type', 'missed', 'nextRun', 'lastRun'],
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
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword
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
