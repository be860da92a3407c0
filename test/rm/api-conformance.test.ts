/**
 * Every endpoint of the public and internal APIs, called on a real Request
 * Manager (static tokens, internal token) and Job Runner (internal token),
 * answers as the OpenAPI documents say: a declared status, its content type
 * and a body valid for that response's schema (Ajv, JSON Schema 2020-12).
 * Then a seeded fuzz of both services with and without credentials (random
 * paths, ids, methods, query strings, headers and bodies) gets no 5xx, and
 * every 4xx is the standard error body. FUZZ_SEED / FUZZ_RUNS change the
 * inputs (the seed is printed).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthFiles, as, INTERNAL_TOKEN, startWithAuth, writeAuthFiles } from '../auth/support/auth.js';
import { agent, type Call, checkAnswer, enc, send } from '../support/fuzz-http.js';
import type { ServiceProcess } from '../support/system.js';
import { until } from '../support/until.js';
import { checkOperatorEndpoints, RM_CONFIG } from './api-conformance-operators.js';
import { conform, DOCS, seen } from './api-conformance-support.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_250_101);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
console.log(`api-conformance fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);

let rm: ServiceProcess;
let jr: ServiceProcess;
const ROOT = as('root');
const INTERNAL = { 'X-Spincycle-Internal-Token': INTERNAL_TOKEN };
const json = (v: unknown) => JSON.stringify(v);
const created: string[] = [];
let files: AuthFiles;

describe('the APIs answer as their OpenAPI documents say, and take fuzz without a 5xx', () => {
  beforeAll(async () => {
    files = writeAuthFiles();
    ({ rm, jr } = await startWithAuth({ db: 'sqlite', files, rmConfigFile: RM_CONFIG(files.dir) }));
  });
  afterAll(async () => {
    for (const id of created)
      await send(rm.url, { method: 'PUT', path: `/api/v1/requests/${id}/stop`, headers: ROOT });
    agent.destroy();
    await jr?.stop();
    await rm?.stop();
  });

  it('every public endpoint: success and error answers', async () => {
    const P = (template: string, c: Call, status: number) => conform(rm.url, 'public', template, c, status);
    const body = json({ type: 'deploy', args: { app: 'a', ms: '60000' } });
    const made = await P(
      '/api/v1/requests',
      { method: 'POST', path: '/api/v1/requests', body, headers: ROOT },
      201,
    );
    const id = (made.json as { id: string }).id;
    created.push(id);
    const R = '/api/v1/requests/{id}';
    await P(
      '/api/v1/requests',
      { method: 'POST', path: '/api/v1/requests?dryRun=true', body, headers: ROOT },
      200,
    );
    await P(
      '/api/v1/requests',
      { method: 'POST', path: '/api/v1/requests', body: '{"type":5}', headers: ROOT },
      400,
    );
    await P('/api/v1/requests', { method: 'POST', path: '/api/v1/requests', body }, 401);
    await P(
      '/api/v1/requests',
      { method: 'POST', path: '/api/v1/requests', body, contentType: 'text/plain', headers: ROOT },
      415,
    );
    await P(
      '/api/v1/requests',
      {
        method: 'POST',
        path: '/api/v1/requests',
        body: json({ type: 'deploy', args: { app: 'x'.repeat(2_000_000) } }),
        headers: ROOT,
      },
      413,
    );
    const key = { ...ROOT, 'Idempotency-Key': `k-${Date.now()}` };
    const first = await P(
      '/api/v1/requests',
      { method: 'POST', path: '/api/v1/requests', body, headers: key },
      201,
    );
    created.push((first.json as { id: string }).id);
    const replay = await P(
      '/api/v1/requests',
      { method: 'POST', path: '/api/v1/requests', body, headers: key },
      200,
    );
    expect(replay.headers['idempotent-replayed']).toBe('true');
    await P(
      '/api/v1/requests',
      {
        method: 'POST',
        path: '/api/v1/requests',
        body: json({ type: 'deploy', args: { app: 'b' } }),
        headers: key,
      },
      422,
    );
    await P(
      '/api/v1/requests',
      { method: 'POST', path: '/api/v1/requests', body, headers: { ...ROOT, 'Idempotency-Key': '\u00e9' } },
      400,
    );
    await P('/api/v1/requests', { method: 'GET', path: '/api/v1/requests', headers: ROOT }, 200);
    await P('/api/v1/requests', { method: 'GET', path: '/api/v1/requests?limit=x', headers: ROOT }, 400);
    for (const suffix of ['', '/job-chain', '/explain', '/log'])
      await P(
        `${R}${suffix}`,
        { method: 'GET', path: `/api/v1/requests/${id}${suffix}`, headers: ROOT },
        200,
      );
    for (const suffix of ['', '/job-chain', '/explain', '/log', '/log/nope'])
      await P(
        `${R}${suffix || ''}`.replace('/log/nope', '/log/{jobId}'),
        { method: 'GET', path: `/api/v1/requests/nope${suffix}`, headers: ROOT },
        404,
      );
    await until('a job-log entry', async () => {
      const a = await send(rm.url, { method: 'GET', path: `/api/v1/requests/${id}/log`, headers: ROOT });
      return (JSON.parse(a.text) as Array<{ jobId: string }>)[0]?.jobId;
    }).then((jobId) =>
      P(
        `${R}/log/{jobId}`,
        { method: 'GET', path: `/api/v1/requests/${id}/log/${jobId}`, headers: ROOT },
        200,
      ),
    );
    await P(`${R}/log`, { method: 'GET', path: `/api/v1/requests/${id}/log?limit=-1`, headers: ROOT }, 400);
    await P(`${R}/start`, { method: 'PUT', path: `/api/v1/requests/${id}/start`, headers: ROOT }, 409);
    await P(`${R}/start`, { method: 'PUT', path: '/api/v1/requests/nope/start', headers: ROOT }, 404);
    await P(`${R}/stop`, { method: 'PUT', path: '/api/v1/requests/nope/stop', headers: ROOT }, 404);
    await P(`${R}/stop`, { method: 'PUT', path: `/api/v1/requests/${id}/stop`, headers: as('dev') }, 401);
    for (const path of [
      '/api/v1/request-list',
      '/api/v1/status/running',
      '/api/v1/spec-schema.json',
      '/api/v1/openapi.json',
      '/api/v1/job-runners',
    ])
      await P(path, { method: 'GET', path, headers: ROOT }, 200);
    await P('/api/v1/request-list', { method: 'GET', path: '/api/v1/request-list' }, 401);
    await P('/api/v1/requests', { method: 'DELETE', path: '/api/v1/requests', headers: ROOT }, 405);
    for (const path of ['/version', '/health', '/ready'])
      await P(path, { method: 'GET', path, contentType: null }, 200);
    await P('/metrics', { method: 'GET', path: '/metrics', headers: INTERNAL }, 200);
    await P('/metrics', { method: 'GET', path: '/metrics' }, 401);
    await P(
      '/api/v1/requests',
      { method: 'GET', path: '/api/v1/requests', headers: { ...ROOT, 'X-Big': 'x'.repeat(20_000) } },
      431,
    );
    await P(`${R}/stop`, { method: 'PUT', path: `/api/v1/requests/${id}/stop`, headers: ROOT }, 200);
    // The document served is the one tested.
    const served = await send(rm.url, { method: 'GET', path: '/api/v1/openapi.json', headers: ROOT });
    expect(Object.keys(JSON.parse(served.text).paths)).toEqual(Object.keys(DOCS.public.paths as object));
  });

  it('every internal endpoint of the RM and the JR: success and error answers', async () => {
    const I = (template: string, c: Call, status: number) => conform(rm.url, 'internal', template, c, status);
    const J = (template: string, c: Call, status: number) => conform(jr.url, 'internal', template, c, status);
    const made = await send(rm.url, {
      method: 'POST',
      path: '/api/v1/requests',
      body: json({ type: 'deploy', args: { app: 'i', ms: '60000' } }),
      headers: ROOT,
    });
    const id = (JSON.parse(made.text) as { id: string }).id;
    created.push(id);
    const fake = 'http://127.0.0.1:1';
    const H = { ...INTERNAL, 'X-Spincycle-Job-Runner': fake };
    const R = '/api/v1/requests/{id}';
    const entry = { jobId: 'x', try: 1, name: 'x', type: 'noop', startedAt: 1, finishedAt: 2, state: 3 };
    const fin = { requestId: id, state: 3, finishedAt: '2030-01-02T03:04:05Z', finishedJobs: 1 };
    await I(
      `${R}/finish`,
      {
        method: 'PUT',
        path: '/api/v1/requests/nope/finish',
        body: json({ ...fin, requestId: 'nope' }),
        headers: H,
      },
      404,
    );
    await I(`${R}/finish`, { method: 'PUT', path: `/api/v1/requests/${id}/finish`, body: json(fin) }, 401);
    await I(
      `${R}/finish`,
      { method: 'PUT', path: `/api/v1/requests/${id}/finish`, body: json(fin), headers: H },
      403,
    );
    await I(
      `${R}/finish`,
      { method: 'PUT', path: `/api/v1/requests/${id}/finish`, body: '{"state":2}', headers: H },
      400,
    );
    await I(
      `${R}/progress`,
      { method: 'PUT', path: `/api/v1/requests/${id}/progress`, body: '[]', headers: H },
      400,
    );
    await I(
      `${R}/suspend`,
      { method: 'PUT', path: `/api/v1/requests/${id}/suspend`, body: '{}', headers: H },
      400,
    );
    await I(
      `${R}/log`,
      { method: 'POST', path: `/api/v1/requests/${id}/log`, body: json(entry), headers: H },
      403,
    );
    await I(
      `${R}/log`,
      { method: 'POST', path: '/api/v1/requests/nope/log', body: json(entry), headers: H },
      404,
    );
    await I(
      '/api/v1/job-logs',
      { method: 'POST', path: '/api/v1/job-logs', body: json([{ ...entry, requestId: id }]), headers: H },
      201,
    );
    await I('/api/v1/job-logs', { method: 'POST', path: '/api/v1/job-logs', body: '{}', headers: H }, 400);
    await I(
      '/api/v1/internal/reports',
      { method: 'POST', path: '/api/v1/internal/reports', body: json({ finishes: [fin] }), headers: H },
      200,
    );
    await I(
      '/api/v1/internal/reports',
      { method: 'POST', path: '/api/v1/internal/reports', body: '{"logs":5}', headers: H },
      400,
    );
    await I(
      '/api/v1/job-runners/heartbeat',
      {
        method: 'PUT',
        path: '/api/v1/job-runners/heartbeat',
        body: json({ jrURL: fake, requests: [] }),
        headers: H,
      },
      200,
    );
    await I(
      '/api/v1/job-runners/heartbeat',
      { method: 'PUT', path: '/api/v1/job-runners/heartbeat', body: json({ jrURL: 'ftp://x' }), headers: H },
      400,
    );
    await I(
      '/api/v1/internal/openapi.json',
      { method: 'GET', path: '/api/v1/internal/openapi.json', headers: H },
      200,
    );
    await I(
      '/api/v1/internal/openapi.json',
      { method: 'GET', path: '/api/v1/internal/openapi.json', headers: ROOT },
      401,
    );
    // The JR.
    await J(
      '/api/v1/job-chains',
      { method: 'POST', path: '/api/v1/job-chains', body: '{}', headers: INTERNAL },
      400,
    );
    await J('/api/v1/job-chains', { method: 'POST', path: '/api/v1/job-chains', body: '{}' }, 401);
    await J(
      '/api/v1/job-chains/batch',
      { method: 'POST', path: '/api/v1/job-chains/batch', body: json({ chains: [{}] }), headers: INTERNAL },
      200,
    );
    await J(
      '/api/v1/job-chains/batch',
      { method: 'POST', path: '/api/v1/job-chains/batch', body: '[]', headers: INTERNAL },
      400,
    );
    await J(
      '/api/v1/job-chains/resume',
      { method: 'POST', path: '/api/v1/job-chains/resume', body: '{}', headers: INTERNAL },
      400,
    );
    await J(
      '/api/v1/job-chains/{id}/stop',
      { method: 'PUT', path: '/api/v1/job-chains/nope/stop', headers: INTERNAL },
      404,
    );
    await J(
      '/api/v1/status/running',
      { method: 'GET', path: '/api/v1/status/running', headers: INTERNAL },
      200,
    );
    await J(
      '/api/v1/status/running',
      { method: 'GET', path: '/api/v1/status/running?requestId=nope', headers: INTERNAL },
      404,
    );
    for (const path of ['/version', '/health', '/ready'])
      await J(path, { method: 'GET', path, contentType: null }, 200);
    await J('/metrics', { method: 'GET', path: '/metrics', headers: INTERNAL }, 200);
    await J('/metrics', { method: 'GET', path: '/metrics' }, 401);
  });

  it('retry, live events, schedules, and 429, 502 and 503', async () => {
    await checkOperatorEndpoints({ rm, files, created });
  });

  it('every operation of both documents was called and checked above', () => {
    const all = Object.entries(DOCS).flatMap(([doc, d]) =>
      Object.entries(d.paths as Record<string, object>).flatMap(([p, item]) =>
        Object.keys(item)
          .filter((m) => m !== 'servers')
          .map((m) => `${doc} ${m.toUpperCase()} ${p}`),
      ),
    );
    expect(all.filter((op) => !seen.has(op))).toEqual([]);
  });

  it('fuzz with and without credentials: no 5xx on the RM or the JR', async () => {
    const creds = fc.constantFrom<Record<string, string>>(
      {},
      ROOT,
      as('dev'),
      INTERNAL,
      { Authorization: 'Bearer nope' },
      { Authorization: 'Basic Og==' },
      { ...INTERNAL, 'X-Spincycle-Job-Runner': 'http://127.0.0.1:1' },
      { 'X-Spincycle-Internal-Token': 'x'.repeat(5000) },
    );
    const id = fc.oneof(
      fc.constantFrom(...created, 'nope', '..', '%2e%2e', '%zz', '%00', 'é', 'a'.repeat(5000)),
      fc.string({ unit: 'grapheme', maxLength: 20 }).map(enc),
    );
    const templates = [
      ...Object.keys(DOCS.public.paths as object),
      ...Object.keys(DOCS.internal.paths as object),
    ];
    const path = fc
      .tuple(fc.constantFrom(...templates), id, id)
      .map(([t, a, b]) => t.replace('{id}', a).replace('{jobId}', b));
    const query = fc.oneof(
      fc.constant(''),
      fc.constantFrom(
        '?state=RUNNING&state=RUNNING&state=NOPE',
        '?limit=1&limit=2',
        '?dryRun=true&dryRun=true',
        '?requestId=%zz',
        '?cursor=%E0%A4%A',
        `?type=${'x'.repeat(8000)}`,
        '?arg=a=b&arg==',
        '?%=%',
      ),
      fc
        .array(fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 12 })), { maxLength: 4 })
        .map((kv) => `?${kv.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}`),
    );
    const headers = fc.record(
      {
        'Idempotency-Key': fc.oneof(
          fc.constantFrom('', ' ', '"q"', 'x'.repeat(300), '\u00ff'),
          fc.string({ maxLength: 10 }),
        ),
        traceparent: fc.oneof(
          fc.constantFrom(
            '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
            '00-00000000000000000000000000000000-0000000000000000-01',
            'ff-x-y-z',
            '',
          ),
          fc.string({ maxLength: 60 }),
        ),
        'X-Big': fc.constantFrom('', 'y'.repeat(4000), 'z'.repeat(17_000)),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.constant(undefined),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.constantFrom(
        '{"type":"deploy","args":{"app":"f"}}',
        '{"logs":[{"requestId":"x"}]}',
        '{',
        `"${'s'.repeat(100_000)}"`,
        `${'['.repeat(3000)}${']'.repeat(3000)}`,
        '{"type":["deploy"]}',
      ),
    );
    const call = fc.record({
      svc: fc.constantFrom('rm', 'jr'),
      method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'),
      path,
      query,
      creds,
      headers,
      body,
      contentType: fc.constantFrom<string | null>(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        null,
        'application/x-www-form-urlencoded',
      ),
    });
    await fc.assert(
      fc.asyncProperty(call, async (c) => {
        const req: Call = {
          method: c.method,
          path: c.path + c.query,
          body: c.body,
          contentType: c.contentType,
          headers: Object.fromEntries(
            Object.entries({ ...c.creds, ...c.headers }).filter(
              ([, v]) => v !== '' && /^[\x20-\x7e]*$/.test(v as string),
            ),
          ) as Record<string, string>,
        };
        const a = await send(c.svc === 'rm' ? rm.url : jr.url, req);
        if (a.status === 202 || a.status === 201) return;
        checkAnswer(req, a);
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
    for (const svc of [rm, jr])
      expect((await send(svc.url, { method: 'GET', path: '/version' })).status).toBe(200);
  });
});
