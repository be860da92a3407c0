/**
 * What one caller can make a server hold, on real connections: the headers
 * and whole-request timeouts (408, then the connection is closed), the
 * connection limit, per-route body limits and the 413 that ends a connection.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createApp,
  finishApp,
  type RunningServer,
  type ServerLimits,
  sendJson,
  silentLogger,
  startServer,
  withBodyLimit,
} from '../src/index.js';

let srv: RunningServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

async function start(limits: ServerLimits): Promise<RunningServer> {
  const logger = silentLogger();
  const big = withBodyLimit('10kb');
  const app = createApp({
    logger,
    bodyLimit: '1kb',
    beforeBody: [(req, res, next) => (req.path === '/big' ? big(req, res, next) : next())],
  });
  app.post('/small', (req, res) => sendJson(res, 200, { got: JSON.stringify(req.body).length }));
  app.post('/big', (req, res) => sendJson(res, 200, { got: JSON.stringify(req.body).length }));
  finishApp(app, logger);
  srv = await startServer(app, '127.0.0.1:0', undefined, limits);
  return srv;
}

/** Open a connection, write `text`, and resolve with everything the server sends until it closes it. */
function untilClosed(server: RunningServer, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(new URL(server.url).port), '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (d) => {
      got += d;
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

describe('server limits', () => {
  it('answers 408 and closes a connection whose headers do not arrive within server.headers_timeout', async () => {
    const server = await start({ headersTimeoutMs: 200, requestTimeoutMs: 1000 });
    const got = await untilClosed(server, 'POST /small HTTP/1.1\r\nHost: x\r\n');
    expect(got).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(JSON.parse(got.slice(got.indexOf('\r\n\r\n') + 4))).toEqual({
      message: 'request not received in time',
      requestId: '',
      httpStatus: 408,
    });
  });

  it('answers 408 and closes a connection whose body does not arrive within server.request_timeout', async () => {
    const server = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const got = await untilClosed(
      server,
      'POST /small HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
    );
    expect(got).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('closes connections past server.max_connections at once; the ones it holds still serve', async () => {
    const server = await start({ maxConnections: 2 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const post = () => fetchVia(agent, server, '/small', '{"a":1}').then((r) => r.status);
    // Two connections held open by the agent.
    expect(await Promise.all([post(), post()])).toEqual([200, 200]);
    // A third is closed without an answer.
    expect(await untilClosed(server, 'POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')).toBe(
      '',
    );
    expect(await post()).toBe(200);
    agent.destroy();
  });

  it('gives each route its body limit; a 413 names the limit and closes the connection', async () => {
    const server = await start({});
    const body = JSON.stringify({ pad: 'x'.repeat(5000) });
    const small = await fetchVia(undefined, server, '/small', body);
    expect(small.status).toBe(413);
    expect(small.connection).toBe('close');
    expect(JSON.parse(small.text)).toEqual({
      message: 'request body too large: over the limit of 1024 bytes',
      requestId: '',
      httpStatus: 413,
    });
    const big = await fetchVia(undefined, server, '/big', body);
    expect(big.status).toBe(200);
    expect(big.connection).not.toBe('close');
  });
});

function fetchVia(
  agent: http.Agent | undefined,
  server: RunningServer,
  path: string,
  body: string,
): Promise<{ status: number; connection: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${server.url}${path}`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
