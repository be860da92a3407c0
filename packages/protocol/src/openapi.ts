/**
 * OpenAPI 3.1 documents of the Spin Cycle HTTP APIs, built from a typed
 * route table and the JSON Schemas kept next to the DTOs (openapi-schemas.ts):
 *  - `publicOpenApi()`: what clients call on a Request Manager;
 *  - `internalOpenApi()`: what Job Runners call on a Request Manager and
 *    what Request Managers call on a Job Runner.
 * Tests lint both and check every real answer of both services against them.
 */
import { type JsonSchema, SCHEMAS } from './openapi-schemas.js';
import { SPINCYCLE_VERSION } from './version.js';

export { type JsonSchema, RFC3339_PATTERN, SCHEMAS } from './openapi-schemas.js';

import { INTERNAL_ROUTES } from './openapi-internal-routes.js';
import { type Body, type Header, PUBLIC_ROUTES, type Route } from './openapi-routes.js';

const ERROR_TEXT: Record<number, string> = {
  400: 'bad input (the message names it)',
  401: 'not authenticated or not allowed',
  403: 'a Job Runner call about a request bound to another Job Runner, or a loopback-only service called by another name',
  404: 'not found',
  409: 'the request is in another state, or a conflicting entry or key',
  413: 'body too large',
  415: 'body is not JSON',
  422: 'Idempotency-Key used with another body',
  429: 'create rate exceeded (Retry-After says when to retry)',
  431: 'request line or headers too large',
  502: 'a Job Runner (or the identity provider) refused or could not be reached',
  503: 'shutting down, or not ready',
};

function content(body: Body): Record<string, unknown> | undefined {
  if (body === 'empty') return undefined;
  if (body === 'text') return { 'text/plain': { schema: { type: 'string' } } };
  if (body === 'any') return { 'application/json': { schema: {} } };
  if ('sse' in body)
    // OpenAPI 3.1 has no schema for one event of a stream: the body is text, and
    // x-event-schema describes each event as an EventSource parses it.
    return {
      'text/event-stream': {
        schema: { type: 'string', description: 'Server-Sent Events (see x-event-schema)' },
        'x-event-schema': body.sse,
      },
    };
  const schema = typeof body.json === 'string' ? { $ref: `#/components/schemas/${body.json}` } : body.json;
  return { 'application/json': { schema } };
}

const headerObjects = (hs: Header[]): Record<string, unknown> =>
  Object.fromEntries(hs.map((h) => [h.name, { description: h.description, schema: { type: 'string' } }]));

/** Headers of error answers, by status. */
const ERROR_HEADERS: Record<number, Header[]> = {
  429: [{ name: 'Retry-After', description: 'seconds to wait before creating again' }],
};

function operation(r: Route, security: Array<Record<string, string[]>>): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, body] of Object.entries(r.ok)) {
    const c = content(body);
    const headers = r.okHeaders?.[Number(status)];
    responses[status] = {
      description: status === '201' ? 'created' : status === '204' ? 'nothing more' : 'success',
      ...(headers ? { headers: headerObjects(headers) } : {}),
      ...(c ? { content: c } : {}),
    };
  }
  for (const status of r.errors)
    responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  const params = [
    ...(r.path.includes('{id}')
      ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]
      : []),
    ...(r.path.includes('{jobId}')
      ? [{ name: 'jobId', in: 'path', required: true, schema: { type: 'string' } }]
      : []),
    ...(r.query ?? []).map((q) => ({
      name: q.name,
      in: 'query',
      description: q.description,
      schema: q.schema ?? { type: 'string' },
    })),
    ...(r.headers ?? []).map((h) => ({
      name: h.name,
      in: 'header',
      description: h.description,
      schema: { type: 'string' },
    })),
  ];
  return {
    operationId: r.id,
    summary: r.summary,
    tags: [r.tag],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(r.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${r.body}` } } },
          },
        }
      : {}),
    // Probes are open whatever the configuration.
    security: r.tag === 'probes' || /^\/(version|health|ready)$/.test(r.path) ? [] : security,
    responses,
  };
}

function errorResponses(routes: Route[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const statuses = [...new Set(routes.flatMap((r) => r.errors))].sort();
  for (const s of statuses)
    out[`Error${s}`] = {
      description: ERROR_TEXT[s] ?? 'error',
      ...(ERROR_HEADERS[s] ? { headers: headerObjects(ERROR_HEADERS[s]) } : {}),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    };
  return out;
}

/** Only the schemas `doc` refers to (directly or through other schemas). */
function usedSchemas(doc: unknown): Record<string, JsonSchema> {
  const used = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        const m = k === '$ref' && typeof x === 'string' ? /^#\/components\/schemas\/(.+)$/.exec(x) : null;
        if (m && !used.has(m[1] as string)) {
          used.add(m[1] as string);
          walk(ALL_SCHEMAS[m[1] as string]);
        } else walk(x);
      }
  };
  walk(doc);
  return Object.fromEntries([...used].sort().map((n) => [n, ALL_SCHEMAS[n] as JsonSchema]));
}

const ALL_SCHEMAS: Record<string, JsonSchema> = {
  ...SCHEMAS,
  JobLogList: { type: 'array', items: { $ref: '#/components/schemas/JobLog' } },
};

function build(
  title: string,
  description: string,
  routes: Route[],
  servers: { rm: string; jr?: string },
  securitySchemes: Record<string, unknown>,
  security: Array<Record<string, string[]>>,
): Record<string, unknown> {
  // The two services share no path in one document, so a path's server is the route's.
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    paths[r.path] ??= r.on === 'jr' ? { servers: [{ url: servers.jr, description: 'a Job Runner' }] } : {};
    (paths[r.path] as Record<string, unknown>)[r.method] = operation(r, security);
  }
  const doc: Record<string, unknown> = {
    openapi: '3.1.0',
    info: {
      title,
      version: SPINCYCLE_VERSION,
      description,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: servers.rm, description: 'a Request Manager' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name, description: `${name} endpoints` })),
    paths,
  };
  const responses = errorResponses(routes);
  doc.components = { schemas: usedSchemas({ paths, responses }), responses, securitySchemes };
  return doc;
}

const RM_SERVER = 'http://127.0.0.1:32308';
const JR_SERVER = 'http://127.0.0.1:32307';

/** The API clients call on a Request Manager. `server`: the URL to name (default the local address). */
export function publicOpenApi(server = RM_SERVER): Record<string, unknown> {
  return build(
    'Spin Cycle Request Manager API',
    'Create, start, stop and read requests and their job logs. Authentication is configured per deployment (static or JWT bearer tokens, client certificates, or a plugin); without it the API is open on loopback only. Every error is an ErrorBody.',
    PUBLIC_ROUTES,
    { rm: server },
    { bearer: { type: 'http', scheme: 'bearer', description: 'a static token or a JWT, as configured' } },
    [{ bearer: [] }, {}],
  );
}

/** What Job Runners call on a Request Manager, and what Request Managers call on a Job Runner. */
export function internalOpenApi(rmServer = RM_SERVER, jrServer = JR_SERVER): Record<string, unknown> {
  return build(
    'Spin Cycle internal API (Request Manager ↔ Job Runner)',
    'Job Runner callbacks to the Request Manager (each carries X-Spincycle-Job-Runner: its URL) and the Job Runner API the Request Manager calls. With an internal token configured every call carries it in X-Spincycle-Internal-Token (or a client certificate is presented).',
    INTERNAL_ROUTES,
    { rm: rmServer, jr: jrServer },
    {
      internalToken: {
        type: 'apiKey',
        in: 'header',
        name: 'X-Spincycle-Internal-Token',
        description: 'the internal token',
      },
    },
    [{ internalToken: [] }, {}],
  );
}

/** The operation of `method path` in `doc` (for checking answers), matched as a template. */
export function findOperation(
  doc: Record<string, unknown>,
  method: string,
  path: string,
): { template: string; operation: Record<string, unknown> } | undefined {
  const paths = doc.paths as Record<string, Record<string, unknown>>;
  const clean = path.replace(/[?#].*$/, '');
  for (const [template, item] of Object.entries(paths)) {
    const re = new RegExp(`^${template.replace(/\/$/, '').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const op = item[method.toLowerCase()];
    if (re.test(clean) && op) return { template, operation: op as Record<string, unknown> };
  }
  return undefined;
}
