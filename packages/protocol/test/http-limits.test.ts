/**
 * What one HttpClient call may cost, against real node:http servers: the
 * whole answer within the deadline (a server that trickles bytes forever is
 * cut), capped answer and request sizes, and no proxy unless one is given.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../src/errors.js';
import { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_RESPONSE_BYTES, HttpClient } from '../src/http.js';

const listen = async (handler: http.RequestListener) => {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};

let target: { server: http.Server; url: string };
let proxy: { server: http.Server; url: string };
const proxied: string[] = [];
const trickles: NodeJS.Timeout[] = [];

beforeAll(async () => {
  target = await listen((req, res) => {
    if (req.url === '/trickle') {
      // Headers at once, then a byte every 20 ms, never the end: the socket is never idle.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('[');
      trickles.push(setInterval(() => res.write(' '), 20));
    } else if (req.url === '/big') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(`"${'x'.repeat(2 * 1024 * 1024)}"`);
    } else {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('"direct"'));
    }
  });
  proxy = await listen((req, res) => {
    proxied.push(req.url ?? '');
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('"proxied"');
  });
});

afterAll(() => {
  for (const t of trickles) clearInterval(t);
  for (const s of [target.server, proxy.server]) {
    s.closeAllConnections();
    s.close();
  }
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('the call succeeded');
    },
    (e: unknown) => e as ApiError,
  );

describe('HttpClient limits', () => {
  it('cuts an answer that trickles forever at the deadline, with a message naming it', async () => {
    const client = new HttpClient({ baseURL: target.url, timeoutMs: 300, retry: { attempts: 1 } });
    const err = await failure(client.call('GET', '/trickle'));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBeUndefined();
    expect(err.message).toBe(
      `GET ${target.url}/trickle: timeout of 300ms exceeded: no complete answer in that time`,
    );
  }, 10_000);

  it('refuses an answer over the response cap with a clear error', async () => {
    const client = new HttpClient({
      baseURL: target.url,
      maxResponseBytes: 1024 * 1024,
      retry: { attempts: 1 },
    });
    const err = await failure(client.call('GET', '/big'));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe(`GET ${target.url}/big: answer larger than 1048576 bytes (the client's limit)`);
    // The same answer under the default cap is taken.
    const ok = await new HttpClient({ baseURL: target.url }).call<string>('GET', '/big');
    expect(ok.data.length).toBe(2 * 1024 * 1024);
  });

  it('refuses to send a body over the request cap', async () => {
    const client = new HttpClient({ baseURL: target.url, maxRequestBytes: 1000, retry: { attempts: 1 } });
    const err = await failure(client.call('POST', '/echo', { pad: 'x'.repeat(2000) }, { idempotent: false }));
    expect(err.message).toBe(
      `POST ${target.url}/echo: request body larger than 1000 bytes (the client's limit)`,
    );
  });

  it('has default caps above the chain sizes in use (a 140,000-job chain is about 40 MB)', () => {
    expect(DEFAULT_MAX_REQUEST_BYTES).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBeGreaterThanOrEqual(128 * 1024 * 1024);
  });

  it('ignores HTTP_PROXY; goes through a proxy only when one is configured', async () => {
    const saved = {
      HTTP_PROXY: process.env.HTTP_PROXY,
      http_proxy: process.env.http_proxy,
      NO_PROXY: process.env.NO_PROXY,
      no_proxy: process.env.no_proxy,
    };
    process.env.HTTP_PROXY = proxy.url;
    process.env.http_proxy = proxy.url;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    try {
      const direct = await new HttpClient({ baseURL: target.url }).call('GET', '/x');
      expect(direct.data).toBe('direct');
      expect(proxied).toEqual([]);
      const port = Number(new URL(proxy.url).port);
      const via = await new HttpClient({
        baseURL: target.url,
        proxy: { protocol: 'http', host: '127.0.0.1', port },
      }).call('GET', '/x');
      expect(via.data).toBe('proxied');
      expect(proxied).toEqual([`${target.url}/x`]);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
