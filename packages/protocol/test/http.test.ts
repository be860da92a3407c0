/**
 * HttpClient (axios) against a real node:http server: the request on the
 * wire, answers, errors, retries and timeouts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JrClient } from '../src/clients.js';
import { ApiError } from '../src/errors.js';
import { HttpClient } from '../src/http.js';
import { State } from '../src/states.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let base = '';
const seen: Seen[] = [];
let failures = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = (req.url ?? '').split('?')[0];
      if (path === '/created') {
        res.writeHead(201, { Location: 'http://jr.example:1234/api/v1/job-chains/r1' }).end();
      } else if (path?.endsWith('/api/v1/job-chains')) {
        const loc = req.headers['x-location'] ?? `${base}/api/v1/job-chains/r1`;
        res.writeHead(200, { Location: String(loc) }).end();
      } else if (path === '/echo') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(body || '{"empty":true}');
      } else if (path === '/big') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ns":1700000000123456789,"x":"é"}');
      } else if (path === '/conflict') {
        res
          .writeHead(409, { 'Content-Type': 'application/json' })
          .end('{"message":"request r in state FAIL"}');
      } else if (path === '/flaky') {
        if (failures-- > 0) res.writeHead(503).end('busy');
        else res.writeHead(200).end('"ok"');
      } else if (path === '/slow') {
        setTimeout(() => res.writeHead(200).end('{}'), 1000);
      } else res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"Not Found"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('HttpClient', () => {
  const client = (opts: { attempts?: number; timeoutMs?: number; baseURL?: string } = {}) =>
    new HttpClient({
      baseURL: opts.baseURL ?? `${base}/`,
      timeoutMs: opts.timeoutMs ?? 2000,
      retry: { attempts: opts.attempts ?? 1, baseDelayMs: 5, maxDelayMs: 10 },
      headers: { 'X-Spincycle-Internal-Token': 'tok' },
    });

  it('sends the JSON body with its headers and parses the JSON answer (bigints exact)', async () => {
    seen.length = 0;
    const res = await client().call<{ a: number; s: string }>(
      'POST',
      '/echo',
      { a: 1, s: 'ü' },
      { query: { x: ['1', '2'], y: undefined }, headers: { 'X-Extra': 'e' } },
    );
    expect(res).toMatchObject({ status: 200, data: { a: 1, s: 'ü' } });
    const req = seen[0] as Seen;
    expect([req.method, req.url, req.body]).toEqual(['POST', '/echo?x=1&x=2', '{"a":1,"s":"ü"}']);
    expect(req.headers).toMatchObject({
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength('{"a":1,"s":"ü"}')),
      'x-spincycle-internal-token': 'tok',
      'x-extra': 'e',
    });
    expect(req.headers.accept).toMatch(/^application\/json/);
    expect((await client().call('GET', '/big')).data).toEqual({ ns: 1700000000123456789n, x: 'é' });
    const get = await client().call('GET', '/echo');
    expect(get.data).toEqual({ empty: true });
    expect((seen.at(-1) as Seen).headers['content-type']).toBeUndefined();
  });

  it('gives the answer headers (Location) and an empty body as undefined', async () => {
    const res = await client().call('PUT', '/created');
    expect(res.status).toBe(201);
    expect(res.data).toBeUndefined();
    expect(res.headers.location).toBe('http://jr.example:1234/api/v1/job-chains/r1');
    expect((seen.at(-1) as Seen).headers['content-length']).toBe('0');
  });

  it('a 4xx is an ApiError with the message and status of the answer, not retried', async () => {
    seen.length = 0;
    const err = await client({ attempts: 3 })
      .call('PUT', '/conflict', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, message: 'request r in state FAIL' });
    expect(seen).toHaveLength(1);
  });

  it('retries 5xx answers, then succeeds', async () => {
    failures = 2;
    expect((await client({ attempts: 3 }).call('GET', '/flaky')).data).toBe('ok');
    failures = 5;
    await expect(client({ attempts: 2 }).call('GET', '/flaky')).rejects.toMatchObject({ status: 503 });
  });

  it('network errors and timeouts are ApiErrors without a status, naming the call', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((r) => dead.close(() => r()));
    const refused = (await client({ baseURL: deadUrl })
      .call('POST', '/x', {})
      .catch((e: unknown) => e)) as ApiError;
    expect(refused).toMatchObject({ status: undefined });
    expect(refused.message).toMatch(new RegExp(`^POST ${deadUrl}/x: connect ECONNREFUSED`));
    const t0 = Date.now();
    const slow = (await client({ timeoutMs: 200 })
      .call('GET', '/slow')
      .catch((e: unknown) => e)) as ApiError;
    expect(slow).toMatchObject({ status: undefined });
    expect(slow.message).toMatch(/timeout of 200ms exceeded/);
    expect(Date.now() - t0).toBeLessThan(900);
  });
});

describe('JrClient.startChain', () => {
  it('takes the JR base URL from Location: its origin, whether or not it is the URL called', async () => {
    const chain = { requestId: 'r1', jobs: {}, adjacencyList: {}, state: State.PENDING, finishedJobs: 0 };
    const jr = (baseURL: string, headers: Record<string, string> = {}) =>
      new JrClient({ baseURL, retry: { attempts: 1 }, headers });
    expect(await jr(base).startChain(chain)).toEqual({ jrURL: base });
    expect(
      await jr(base, { 'X-Location': 'https://other.example:8443/api/v1/job-chains/r1' }).startChain(chain),
    ).toEqual({
      jrURL: 'https://other.example:8443',
    });
    // Called through a path prefix (a proxy): the origin of Location, not the prefix.
    expect(
      await jr(`${base}/prefix`, { 'X-Location': `${base}/prefix/api/v1/job-chains/r1` }).startChain(chain),
    ).toEqual({
      jrURL: base,
    });
    expect(await jr(base, { 'X-Location': 'not a url' }).startChain(chain)).toEqual({ jrURL: base });
  });
});
