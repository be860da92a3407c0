/**
 * The routes of the OpenAPI documents (openapi.ts): every endpoint of the
 * Request Manager's public API, of the Job Runner → Request Manager callbacks
 * and of the Job Runner's own API, with what each answers.
 */
import { type JsonSchema, REQUEST_EVENT } from './openapi-schemas.js';

/**
 * What an answer carries: JSON of a schema, plain text, nothing, or a
 * Server-Sent Events stream whose events (parsed) the named schema describes.
 */
export type Body = { json: string | JsonSchema } | { sse: JsonSchema } | 'text' | 'empty' | 'any';

/** A header of a request or an answer. */
export interface Header {
  name: string;
  description: string;
}

export interface Route {
  method: 'get' | 'put' | 'post';
  path: string;
  id: string;
  summary: string;
  tag: string;
  /** Request body schema (JSON). */
  body?: string;
  query?: Array<{ name: string; description: string; schema?: JsonSchema }>;
  headers?: Header[];
  ok: Record<number, Body>;
  /** Headers of the success answers, by status. */
  okHeaders?: Record<number, Header[]>;
  /** Error statuses; each answers ErrorBody. */
  errors: number[];
  /** Which server: the RM (default) or a JR (internal document only). */
  on?: 'jr';
}

export const json = (schema: string | JsonSchema): Body => ({ json: schema });
const ID = '{id}';
export const R = `/api/v1/requests/${ID}`;
export const listOf = (name: string): Body =>
  json({ type: 'array', items: { $ref: `#/components/schemas/${name}` } });

const LOCATION: Header = { name: 'Location', description: 'the path of the request: /api/v1/requests/{id}' };
/** Headers of a page that has a next one. */
const PAGING: Header[] = [
  { name: 'X-Next-Cursor', description: 'only when more follow: pass it as `cursor` for the next page' },
  {
    name: 'Link',
    description: 'only when more follow: `<path of the next page>; rel="next"` (same filters and limit)',
  },
];

/** Errors any public /api call may get: unauthenticated/denied, headers too large. */
const API_ERRORS = [401, 431];
/** Errors of calls with a JSON body. */
export const BODY_ERRORS = [400, 413, 415];

const FIND_QUERY: NonNullable<Route['query']> = [
  { name: 'type', description: 'request type (exact)' },
  { name: 'user', description: 'user (exact)' },
  { name: 'state', description: 'state names, repeated and/or comma-separated (RUNNING,PENDING)' },
  { name: 'arg', description: '`name=value`: an arg given at creation (repeatable; exact)' },
  { name: 'since', description: 'RFC 3339: still running then or finished after it' },
  { name: 'until', description: 'RFC 3339: created before it' },
  { name: 'limit', description: 'requests per page (default 100, at most 1000)' },
  { name: 'offset', description: 'requests to skip (not with cursor)' },
  { name: 'cursor', description: 'the X-Next-Cursor of the previous page' },
];

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
      200: json({
        description:
          'dryRun=true: the plan; or an Idempotency-Key seen before with this body: the request it created (Idempotent-Replayed: true)',
        anyOf: [{ $ref: '#/components/schemas/Request' }, { $ref: '#/components/schemas/RequestPlan' }],
      }),
      201: json('Request'),
    },
    okHeaders: {
      200: [
        LOCATION,
        { name: 'Idempotent-Replayed', description: '`true` on the answer of a replayed Idempotency-Key' },
      ],
      201: [LOCATION],
    },
    errors: [...BODY_ERRORS, ...API_ERRORS, 409, 422, 429, 502, 503],
  },
  {
    method: 'get',
    path: '/api/v1/requests',
    id: 'findRequests',
    summary: 'Find requests, newest first (one page)',
    tag: 'requests',
    query: FIND_QUERY,
    ok: { 200: listOf('Request') },
    okHeaders: { 200: PAGING },
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
    method: 'post',
    path: `${R}/retry`,
    id: 'retryRequest',
    summary: 'Run a FAIL or STOPPED request again from where it failed (the same request, RUNNING again)',
    tag: 'requests',
    ok: { 200: json('Request') },
    errors: [...API_ERRORS, 404, 409, 502, 503],
  },
  {
    method: 'get',
    path: `${R}/events`,
    id: 'requestEvents',
    summary:
      'Live events of a request (Server-Sent Events): `log` (data: JobLog), `progress` (EventProgress), `state` (Request), then `final` (Request) ends the stream',
    tag: 'requests',
    query: [{ name: 'after', description: 'an event id: only what came after it (as Last-Event-ID)' }],
    headers: [{ name: 'Last-Event-ID', description: 'an event id: only what came after it' }],
    ok: { 200: { sse: REQUEST_EVENT }, 204: 'empty' },
    errors: [400, ...API_ERRORS, 404, 503],
  },
  {
    method: 'get',
    path: `${R}/log`,
    id: 'getJobLogs',
    summary: 'All job-log entries of a request (pages with limit/cursor)',
    tag: 'job log',
    query: [
      { name: 'limit', description: 'entries per page (1 to 1000; without it: the whole log)' },
      { name: 'cursor', description: 'the X-Next-Cursor of the previous page' },
    ],
    ok: { 200: listOf('JobLog') },
    okHeaders: { 200: PAGING },
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
    ok: { 200: listOf('RequestSpec') },
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
    path: '/api/v1/schedules',
    id: 'listSchedules',
    summary: 'The configured schedules with their last and next runs',
    tag: 'meta',
    ok: { 200: listOf('Schedule') },
    errors: API_ERRORS,
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
    ok: { 200: listOf('JobRunnerInfo') },
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
