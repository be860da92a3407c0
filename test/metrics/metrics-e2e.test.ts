/**
 * Metrics and correlation end to end: real RM and JR processes with
 * credentials (users' tokens, the internal token). After a request ran to
 * completion, both `/metrics` answer in the Prometheus text format with every
 * metric of service-kit's list, and no label value is a request id; a request
 * created with a `traceparent` has its trace id in both services' JSON log
 * lines about it.
 */
import { randomBytes } from 'node:crypto';
import { State } from '@spincycle/protocol';
import { METRIC_LIST } from '@spincycle/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthFiles,
  as,
  http,
  INTERNAL_TOKEN,
  startWithAuth,
  writeAuthFiles,
} from '../auth/support/auth.js';
import type { ServiceProcess } from '../support/system.js';
import { until } from '../support/until.js';
import { type Exposition, parseExposition } from './exposition.js';

let rm: ServiceProcess;
let jr: ServiceProcess;
let files: AuthFiles;
const internal = { 'X-Spincycle-Internal-Token': INTERNAL_TOKEN };

/** Create a `deploy` request and wait for it to complete; its id and number of jobs. */
async function runDeploy(headers: Record<string, string> = {}): Promise<{ id: string; totalJobs: number }> {
  const res = await http(
    rm.url,
    'POST',
    '/api/v1/requests',
    { type: 'deploy', args: { app: 'web' } },
    {
      ...as('dep'),
      ...headers,
    },
  );
  expect(res.status).toBe(201);
  const id = (res.json as { id: string }).id;
  const totalJobs = await until(`request ${id} to complete`, async () => {
    const r = await http(rm.url, 'GET', `/api/v1/requests/${id}`, undefined, as('dep'));
    const req = r.json as { state: number; totalJobs: number };
    return req.state === State.COMPLETE ? req.totalJobs : undefined;
  });
  return { id, totalJobs };
}

beforeAll(async () => {
  files = writeAuthFiles();
  ({ rm, jr } = await startWithAuth({ db: 'sqlite', files, env: { LOG_LEVEL: 'info' } }));
});

afterAll(async () => {
  await jr?.stop();
  await rm?.stop();
});

describe('GET /metrics', () => {
  let requestId: string;
  let totalJobs: number;
  const scraped = {} as Record<'rm' | 'jr', Exposition>;

  beforeAll(async () => {
    ({ id: requestId, totalJobs } = await runDeploy());
    for (const [svc, url] of [
      ['rm', rm.url],
      ['jr', jr.url],
    ] as const) {
      const res = await http(url, 'GET', '/metrics', undefined, internal);
      expect(res.status).toBe(200);
      scraped[svc] = parseExposition(res.text);
    }
  });

  it('each service exports every metric of the list that is its own, with its type and labels, and the defaults', () => {
    for (const svc of ['rm', 'jr'] as const) {
      const { samples, types } = scraped[svc];
      for (const def of METRIC_LIST.filter((m) => m.service.split(',').includes(svc))) {
        expect(types.get(def.name), `${svc}: ${def.name}`).toBe(def.type);
        const mine = samples.filter((s) => s.family === def.name);
        for (const s of mine.filter((x) => !x.name.endsWith('_bucket')))
          expect(Object.keys(s.labels).sort(), `${svc}: ${s.name}`).toEqual([...def.labels].sort());
      }
      for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds'])
        expect(types.has(name), `${svc}: ${name}`).toBe(true);
    }
  });

  it('the request shows: created and finished by type and state, its jobs by type, HTTP calls by route', () => {
    const value = (svc: 'rm' | 'jr', name: string, labels: Record<string, string>) =>
      scraped[svc].samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((n, s) => n + s.value, 0);
    expect(value('rm', 'spincycle_requests_created_total', { type: 'deploy' })).toBe(1);
    expect(value('rm', 'spincycle_requests_finished_total', { type: 'deploy', state: 'COMPLETE' })).toBe(1);
    expect(value('rm', 'spincycle_request_create_duration_seconds_count', {})).toBe(1);
    expect(value('jr', 'spincycle_job_tries_total', { type: 'sleep', state: 'COMPLETE' })).toBe(1);
    // The sequence's start and end jobs are noops too: one try of each job.
    expect(value('jr', 'spincycle_job_duration_seconds_count', { type: 'noop' })).toBe(totalJobs - 1);
    expect(value('jr', 'spincycle_job_tries_total', {})).toBe(totalJobs);
    expect(value('rm', 'spincycle_jr_live', {})).toBe(1);
    expect(
      value('rm', 'spincycle_http_requests_total', {
        service: 'rm',
        method: 'GET',
        route: '/api/v1/requests/:id',
        status: '200',
      }),
    ).toBeGreaterThan(0);
    expect(
      value('jr', 'spincycle_http_requests_total', {
        service: 'jr',
        method: 'POST',
        route: '/api/v1/job-chains',
        status: '200',
      }),
    ).toBe(1);
  });

  it('no label value carries a request id', () => {
    for (const s of [...scraped.rm.samples, ...scraped.jr.samples])
      for (const v of Object.values(s.labels)) expect(v, s.name).not.toContain(requestId);
  });

  it('needs a credential: internal token or a user with role metrics or an admin role (RM), internal token (JR)', async () => {
    expect((await http(rm.url, 'GET', '/metrics')).status).toBe(401);
    expect((await http(rm.url, 'GET', '/metrics', undefined, as('dep'))).status).toBe(401);
    expect((await http(rm.url, 'GET', '/metrics', undefined, as('root'))).status).toBe(200);
    const wrong = { 'X-Spincycle-Internal-Token': 'not-the-token-0123456789' };
    expect((await http(rm.url, 'GET', '/metrics', undefined, { ...wrong, ...as('root') })).status).toBe(401);
    expect((await http(jr.url, 'GET', '/metrics')).status).toBe(401);
  });
});

describe('traceparent', () => {
  it("one request's trace id is in both services' log lines about it", async () => {
    const traceId = randomBytes(16).toString('hex');
    const { id } = await runDeploy({ traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    const lines = (svc: ServiceProcess) =>
      svc.log
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    // Written as the finish arrives: the finish call carries the trace.
    await until('the RM to log the finish', async () =>
      lines(rm).some((l) => l.message === 'request finished' && l.requestId === id) ? true : undefined,
    );
    const rmLines = lines(rm).filter((l) => l.requestId === id);
    const jrLines = lines(jr).filter((l) => l.requestId === id);
    expect(rmLines.map((l) => l.message)).toEqual(
      expect.arrayContaining(['request created', 'request finished']),
    );
    expect(jrLines.map((l) => l.message)).toContain('chain done');
    for (const l of [...rmLines, ...jrLines]) expect(l.traceId, String(l.message)).toBe(traceId);
    // A call without one gets a trace of its own.
    const { id: other } = await runDeploy();
    const created = lines(rm).find((l) => l.message === 'request created' && l.requestId === other);
    expect(created?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(created?.traceId).not.toBe(traceId);
  });
});
