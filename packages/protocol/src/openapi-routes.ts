/**
 * The routes of the OpenAPI documents (openapi.ts): every endpoint of the
 * Request Manager's public API, of the Job Runner → Request Manager callbacks
 * and of the Job Runner's own API, with what each answers.
 */
import type { JsonSchema } from './openapi-schemas.js';

/** What an answer carries: JSON of a schema, plain text, or nothing. */
export type Body = { json: string | JsonSchema } | 'text' | 'empty' | 'any';

export interface Route {
  method: 'get' | 'put' | 'post';
  path: string;
  id: string;
  summary: string;
  tag: string;
  /** Request body schema (JSON). */
  body?: string;
  query?: Array<{ name: string; description: string; schema?: JsonSchema }>;
  headers?: Array<{ name: string; description: string }>;
  ok: Record<number, Body>;
  /** Error statuses; each answers ErrorBody. */
  errors: number[];
  /** Which server: the RM (default) or a JR (internal document only). */
  on?: 'jr';
}

const json = (schema: string | JsonSchema): Body => ({ json: schema });
const ID = '{id}';
const R = `/api/v1/requests/${ID}`;

/** Errors any public /api call may get: unauthenticated/denied, headers too large. */
const API_ERRORS = [401, 431];
/** Errors of calls with a JSON body. */
const BODY_ERRORS = [400, 413, 415];

export const PUBLIC_ROUTES: Route[] = [
  {
    method: 'post',
    path: '/api/v1/requests',
    id: 'createRequest',
    summary: 'Create and start a request (or, with dryRun=true, plan it)',
    tag: 'requests',
    body: 'CreateRequest',
    query: [
      {
        name: 'dryRun',
        description: 'true: build the chain, store nothing, answer the plan (200)',
        schema: { enum: ['true', 'false'] },
      },
    ],
    headers: [
      {
        name: 'Idempotency-Key',
        description: '1–255 printable ASCII characters: create at most once per key and user',
      },
    ],
    ok: {
      200: json({ anyOf: [{ $ref: '#/components/schemas/Request' }, { $ref: '#/components/schemas/Plan' }] }),
      201: json('Request'),
    },
    errors: [...BODY_ERRORS, ...API_ERRORS, 409, 422, 429, 502, 503],
  },
  {
    method: 'get',
    path: '/api/v1/requests',
    id: 'findRequests',
    summary: 'Find requests, newest first (one page)',
    tag: 'requests',
    query: ['type', 'user', 'state', 'arg', 'since', 'until', 'limit', 'offset', 'cursor'].map((name) => ({
      name,
      description: `filter or paging parameter \`${name}\` (state and arg may be repeated)`,
    })),
    ok: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/Request' } }) },
    errors: [400, ...API_ERRORS],
  },
  {
    method: 'get',
    path: R,
    id: 'getRequest',
    summary: 'Get a request with its args and job chain',
    tag: 'requests',
    ok: { 200: json('Request') },
    errors: [...API_ERRORS, 404],
  },
  {
    method: 'get',
    path: `${R}/explain`,
    id: 'explainRequest',
    summary: 'Why a request is not done (or why it failed)',
    tag: 'requests',
    ok: { 200: json('Explanation') },
    errors: [...API_ERRORS, 404],
  },
  {
    method: 'get',
    path: `${R}/job-chain`,
    id: 'getJobChain',
    summary: "Get a request's job chain",
    tag: 'requests',
    ok: { 200: json('JobChain') },
    errors: [...API_ERRORS, 404],
  },
  {
    method: 'put',
    path: `${R}/start`,
    id: 'startRequest',
    summary: 'Start a PENDING request',
    tag: 'requests',
    ok: { 200: 'empty' },
    errors: [...API_ERRORS, 404, 409, 502, 503],
  },
  {
    method: 'put',
    path: `${R}/stop`,
    id: 'stopRequest',
    summary: 'Stop a request',
    tag: 'requests',
    ok: { 200: 'empty' },
    errors: [...API_ERRORS, 404, 502],
  },
  {
    method: 'get',
    path: `${R}/log`,
    id: 'getJobLogs',
    summary: 'All job-log entries of a request (pages with limit/cursor)',
    tag: 'job log',
    query: [
      { name: 'limit', description: 'entries per page' },
      { name: 'cursor', description: 'the X-Next-Cursor of the previous page' },
    ],
    ok: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/JobLog' } }) },
    errors: [400, ...API_ERRORS, 404],
  },
  {
    method: 'get',
    path: `${R}/log/{jobId}`,
    id: 'getJobLog',
    summary: 'The latest job-log entry of a job',
    tag: 'job log',
    ok: { 200: json('JobLog') },
    errors: [...API_ERRORS, 404],
  },
  {
    method: 'get',
    path: '/api/v1/request-list',
    id: 'listRequestTypes',
    summary: 'The request types and their args',
    tag: 'meta',
    ok: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/RequestSpec' } }) },
    errors: API_ERRORS,
  },
  {
    method: 'get',
    path: '/api/v1/status/running',
    id: 'runningStatus',
    summary: 'Running jobs and requests',
    tag: 'meta',
    query: [{ name: 'requestId', description: 'only this request' }],
    ok: { 200: json('RunningStatus') },
    errors: [...API_ERRORS, 502],
  },
  {
    method: 'get',
    path: '/api/v1/spec-schema.json',
    id: 'specSchema',
    summary: 'The JSON Schema of request spec files',
    tag: 'meta',
    ok: { 200: json({ type: 'object' }) },
    errors: API_ERRORS,
  },
  {
    method: 'get',
    path: '/api/v1/openapi.json',
    id: 'openApi',
    summary: 'This document',
    tag: 'meta',
    ok: { 200: json({ type: 'object' }) },
    errors: API_ERRORS,
  },
  {
    method: 'get',
    path: '/api/v1/job-runners',
    id: 'listJobRunners',
    summary: 'The Job Runners known from heartbeats',
    tag: 'meta',
    ok: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/JobRunnerInfo' } }) },
    errors: API_ERRORS,
  },
  {
    method: 'get',
    path: '/version',
    id: 'version',
    summary: 'The protocol version',
    tag: 'probes',
    ok: { 200: 'text' },
    errors: [431],
  },
  {
    method: 'get',
    path: '/health',
    id: 'health',
    summary: 'Liveness',
    tag: 'probes',
    ok: { 200: 'text' },
    errors: [431],
  },
  {
    method: 'get',
    path: '/ready',
    id: 'ready',
    summary: 'Readiness (serving and database reachable)',
    tag: 'probes',
    ok: { 200: 'text' },
    errors: [431, 503],
  },
  {
    method: 'get',
    path: '/metrics',
    id: 'metrics',
    summary: 'Prometheus metrics',
    tag: 'probes',
    ok: { 200: 'text' },
    errors: [401],
  },
];

/** Errors of every Job Runner call to the RM: credentials, binding to the request's JR, big bodies. */
const JR_CALL_ERRORS = [...BODY_ERRORS, 401, 403];

export const INTERNAL_ROUTES: Route[] = [
  {
    method: 'put',
    path: `${R}/finish`,
    id: 'finishRequest',
    summary: 'A chain finished',
    tag: 'job runner → request manager',
    body: 'FinishRequest',
    ok: { 200: 'empty' },
    errors: [...JR_CALL_ERRORS, 404, 409],
  },
  {
    method: 'put',
    path: `${R}/progress`,
    id: 'requestProgress',
    summary: 'Finished-job count of a running chain',
    tag: 'job runner → request manager',
    body: 'RequestProgress',
    ok: { 200: json({ type: 'null' }) },
    errors: [...JR_CALL_ERRORS, 404, 409],
  },
  {
    method: 'put',
    path: `${R}/suspend`,
    id: 'suspendRequest',
    summary: 'Hand a chain back (the JR is stopping)',
    tag: 'job runner → request manager',
    body: 'SuspendedJobChain',
    ok: { 200: 'empty' },
    errors: [...JR_CALL_ERRORS, 404, 409],
  },
  {
    method: 'post',
    path: `${R}/log`,
    id: 'postJobLog',
    summary: 'One job-log entry',
    tag: 'job runner → request manager',
    body: 'JobLog',
    ok: { 201: json('JobLog') },
    errors: [...JR_CALL_ERRORS, 404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/job-logs',
    id: 'postJobLogs',
    summary: 'Job-log entries of any requests',
    tag: 'job runner → request manager',
    body: 'JobLogList',
    ok: { 201: json('JobLogsResult') },
    errors: JR_CALL_ERRORS,
  },
  {
    method: 'post',
    path: '/api/v1/internal/reports',
    id: 'postReports',
    summary: 'Entries, progress and finishes in one call',
    tag: 'job runner → request manager',
    body: 'ReportBatch',
    ok: { 200: json('ReportResult') },
    errors: JR_CALL_ERRORS,
  },
  {
    method: 'put',
    path: '/api/v1/job-runners/heartbeat',
    id: 'heartbeat',
    summary: 'A Job Runner is alive and holds these chains',
    tag: 'job runner → request manager',
    body: 'JobRunnerHeartbeat',
    ok: { 200: json('JobRunnerHeartbeatReply') },
    errors: JR_CALL_ERRORS,
  },
  {
    method: 'get',
    path: '/api/v1/internal/openapi.json',
    id: 'internalOpenApi',
    summary:
      'This document (with the internal token, and the X-Spincycle-Job-Runner header every call under /api/v1/internal/ needs)',
    tag: 'job runner → request manager',
    ok: { 200: json({ type: 'object' }) },
    errors: [401, 403],
  },
  // The Job Runner's own API, called by Request Managers.
  {
    on: 'jr',
    method: 'post',
    path: '/api/v1/job-chains',
    id: 'jrStartChain',
    summary: 'Run a job chain',
    tag: 'request manager → job runner',
    body: 'JobChain',
    ok: { 200: 'empty' },
    errors: [...BODY_ERRORS, 401, 403, 409, 503],
  },
  {
    on: 'jr',
    method: 'post',
    path: '/api/v1/job-chains/batch',
    id: 'jrStartChains',
    summary: 'Run several job chains',
    tag: 'request manager → job runner',
    body: 'JobChainBatch',
    ok: { 200: json('JobChainBatchResult') },
    errors: [...BODY_ERRORS, 401, 403, 503],
  },
  {
    on: 'jr',
    method: 'post',
    path: '/api/v1/job-chains/resume',
    id: 'jrResumeChain',
    summary: 'Resume a suspended job chain',
    tag: 'request manager → job runner',
    body: 'SuspendedJobChain',
    ok: { 200: 'empty' },
    errors: [...BODY_ERRORS, 401, 403, 409, 503],
  },
  {
    on: 'jr',
    method: 'put',
    path: '/api/v1/job-chains/{id}/stop',
    id: 'jrStopChain',
    summary: 'Stop a job chain',
    tag: 'request manager → job runner',
    ok: { 200: 'empty' },
    errors: [401, 403, 404, 503],
  },
  {
    on: 'jr',
    method: 'get',
    path: '/api/v1/status/running',
    id: 'jrRunningStatus',
    summary: 'The jobs running on this Job Runner',
    tag: 'request manager → job runner',
    query: [{ name: 'requestId', description: 'only this chain' }],
    ok: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/JobStatus' } }) },
    errors: [401, 403, 404],
  },
  {
    on: 'jr',
    method: 'get',
    path: '/version',
    id: 'jrVersion',
    summary: 'The protocol version',
    tag: 'request manager → job runner',
    ok: { 200: 'text' },
    errors: [431],
  },
  {
    on: 'jr',
    method: 'get',
    path: '/health',
    id: 'jrHealth',
    summary: 'Liveness',
    tag: 'request manager → job runner',
    ok: { 200: 'text' },
    errors: [431],
  },
  {
    on: 'jr',
    method: 'get',
    path: '/ready',
    id: 'jrReady',
    summary: 'Readiness (taking chains)',
    tag: 'request manager → job runner',
    ok: { 200: 'text' },
    errors: [431, 503],
  },
  {
    on: 'jr',
    method: 'get',
    path: '/metrics',
    id: 'jrMetrics',
    summary: 'Prometheus metrics',
    tag: 'request manager → job runner',
    ok: { 200: 'text' },
    errors: [401, 403],
  },
];
