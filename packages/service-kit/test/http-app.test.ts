import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { NotFoundError, parseJson } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createApp,
  finishApp,
  MAX_JSON_DEPTH,
  nestedDeeperThan,
  parseByteLimit,
  type RunningServer,
  sendJson,
  silentLogger,
  startServer,
} from '../src/index.js';

let srv: RunningServer;
beforeAll(async () => {
  const logger = silentLogger();
  const app = createApp({ logger, bodyLimit: '1kb' });
  app.get('/things/:id', (req, res) => {
    if (req.params.id === 'missing') throw new NotFoundError('thing missing not found');
    sendJson(res, 200, { id: req.params.id });
  });
  app.post('/things', (req, res) => sendJson(res, 201, req.body));
  app.get('/proto/:id', (req, res) =>
    res.status(202).json({
      same: Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response,
      host: req.get('host') === new URL(srv.url).host,
      id: req.params.id,
      q: req.query.q,
    }),
  );
  app.get('/boom', () => {
    throw new Error('secret internal detail');
  });
  finishApp(app, logger);
  srv = await startServer(app, '127.0.0.1:0');
});
afterAll(() => srv.close());

const call = (path: string, init?: RequestInit) => fetch(srv.url + path, init);

/** Raw bytes on a new connection; the whole answer as text (the server closes the connection). */
const rawCall = (request: string) =>
  new Promise<string>((resolve, reject) => {
    const s = net.connect(Number(new URL(srv.url).port), '127.0.0.1', () => s.write(request));
    let text = '';
    s.on('data', (d) => {
      text += d;
    });
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });

describe('service-kit HTTP edge', () => {
  it('sets the version header and serves /version', async () => {
    const res = await call('/version');
    expect(res.headers.get('x-spincycle-version')).toBe('2.1.1');
    expect(await res.text()).toBe('2.1.1');
  });
  it('maps typed errors to their status with the standard body', async () => {
    const res = await call('/things/missing');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: 'thing missing not found', requestId: '', httpStatus: 404 });
  });
  it('answers 405 for a wrong method on a known path and 404 for unknown paths', async () => {
    const wrong = await call('/things/x', { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    // Matched as the routes are: case-insensitive, trailing slash allowed.
    expect((await call('/THINGS/', { method: 'GET' })).headers.get('allow')).toBe('POST');
    expect((await call('/nope')).status).toBe(404);
  });
  it('answers 400 naming the path for broken percent-encoding in a route parameter (was a 500)', async () => {
    for (const id of ['%C0%AF', '%E0%A4%A', '%ED%A0%80', '%zz', '%']) {
      const res = await call(`/things/${id}`);
      expect(res.status, id).toBe(400);
      expect(await res.json()).toEqual({
        message: `malformed URL path: invalid percent-encoding in '/things/${id}'`,
        requestId: '',
        httpStatus: 400,
      });
    }
    // Well-formed escapes still reach the route decoded.
    expect(await (await call('/things/%C3%A9%2F')).json()).toEqual({ id: 'é/' });
  });
  it('answers requests node cannot parse with the standard error body (was none): 431 for a 20 kB id, 400 for garbage', async () => {
    const long = await call(`/things/${'c'.repeat(20_000)}`);
    expect(long.status).toBe(431);
    expect(long.headers.get('x-spincycle-version')).toBe('2.1.1');
    expect(await long.json()).toEqual({
      message: 'request line and headers too large: over 16384 bytes (a very long URL?)',
      requestId: '',
      httpStatus: 431,
    });
    const raw = await rawCall('NOT HTTP AT ALL\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ requestId: '', httpStatus: 400 });
    expect(body.message).toMatch(/^malformed HTTP request: Parse Error/);
  });
  it('answers CONNECT with 405 and the standard error body (the connection was closed without an answer)', async () => {
    const raw = await rawCall('CONNECT /things/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({
      message: 'Method Not Allowed: CONNECT (this is no proxy)',
      requestId: '',
      httpStatus: 405,
    });
  });
  it('rejects malformed JSON, wrong content type and oversized bodies', async () => {
    const bad = await call('/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/malformed JSON/);
    const type = await call('/things', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(type.status).toBe(415);
    const big = await call('/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x'.repeat(5000) }),
    });
    expect(big.status).toBe(413);
  });
  it('keeps nanosecond integers exact through a round trip', async () => {
    const res = await call('/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"startedAt":1554230366094196501}',
    });
    expect(res.status).toBe(201);
    expect((parseJson(await res.text()) as { startedAt: bigint }).startedAt).toBe(1554230366094196501n);
  });
  it('reads bodies: multi-byte UTF-8 split across chunks, a BOM, other charsets and gzip (through body-parser)', async () => {
    const post = (body: Buffer | string, headers: Record<string, string>) =>
      call('/things', { method: 'POST', headers, body }).then(async (r) => [r.status, await r.json()]);
    // A chunked body whose é is split between two chunks.
    const chunked = await new Promise<[number, unknown]>((resolve, reject) => {
      const req = http.request(
        `${srv.url}/things`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve([res.statusCode ?? 0, JSON.parse(text)]));
        },
      );
      req.on('error', reject);
      const bytes = Buffer.from('{"s":"é"}');
      req.write(bytes.subarray(0, 7));
      setTimeout(() => req.end(bytes.subarray(7)), 20);
    });
    expect(chunked).toEqual([201, { s: 'é' }]);
    expect(await post('\ufeff{"a":1}', { 'content-type': 'application/json; charset=utf-8' })).toEqual([
      201,
      { a: 1 },
    ]);
    expect(
      await post(Buffer.from('{"s":"\u00e9"}', 'latin1'), {
        'content-type': 'application/json; charset=latin1',
      }),
    ).toEqual([201, { s: 'é' }]);
    expect(
      await post(gzipSync('{"z":true}'), { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
    ).toEqual([201, { z: true }]);
  });
  it('a chunked body over the limit is a 413 that closes the connection; the next call goes on a new one', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (chunks: string[]) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          `${srv.url}/things`,
          { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () =>
              resolve(
                res.statusCode === 413 && res.headers.connection !== 'close' ? -1 : (res.statusCode ?? 0),
              ),
            );
          },
        );
        req.on('error', reject);
        for (const c of chunks) req.write(c);
        req.end();
      });
    expect(await send(['{"a":"', 'x'.repeat(800), 'y'.repeat(800), '"}'])).toBe(413);
    expect(await send(['{"a":1}'])).toBe(201);
    agent.destroy();
  });
  it('measures JSON nesting over structural characters only (brackets in strings and escaped quotes do not count)', () => {
    const deep = (n: number) => `${'{"a":['.repeat(n)}"x"${']}'.repeat(n)}`;
    expect(nestedDeeperThan(deep(256), 512)).toBe(false);
    expect(nestedDeeperThan(deep(257), 512)).toBe(true);
    expect(nestedDeeperThan('["{{{[[[", "\\"[[[", "\\\\", [[1]]]', 3)).toBe(false);
    expect(nestedDeeperThan('["\\\\", [[[1]]]]', 3)).toBe(true);
    expect(nestedDeeperThan('"unterminated [[[[', 1)).toBe(false);
    expect(MAX_JSON_DEPTH).toBe(512);
  });
  it('answers a JSON body nested deeper than MAX_JSON_DEPTH with 400 naming that (writing it back was a RangeError, a 500)', async () => {
    const logger = silentLogger();
    const app = createApp({ logger });
    app.post('/echo', (req, res) => sendJson(res, 200, req.body));
    finishApp(app, logger);
    const wide = await startServer(app, '127.0.0.1:0');
    try {
      const post = (body: string) =>
        fetch(`${wide.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      for (const body of [
        `${'['.repeat(5000)}1${']'.repeat(5000)}`,
        `{"a":${'['.repeat(513)}${']'.repeat(513)}}`,
      ]) {
        const res = await post(body);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({
          message: 'JSON body nested too deeply: more than 512 levels of objects and arrays',
          requestId: '',
          httpStatus: 400,
        });
      }
      const ok = await post(`${'['.repeat(512)}${']'.repeat(512)}`);
      expect(ok.status).toBe(200);
    } finally {
      await wide.close();
    }
  });
  it('reads body limits as body-parser does', () => {
    expect(parseByteLimit('64mb')).toBe(64 * 1024 * 1024);
    expect(parseByteLimit('1kb')).toBe(1024);
    expect(parseByteLimit('1.5KB')).toBe(1536);
    expect(parseByteLimit('100')).toBe(100);
    expect(parseByteLimit('lots')).toBeUndefined();
  });
  it('requests and responses are born with the express prototypes, and express works on them as ever', async () => {
    const res = await call('/proto/7?q=x');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ same: true, host: true, id: '7', q: 'x' });
  });
  it('never leaks internal error text', async () => {
    const res = await call('/boom');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error', requestId: '', httpStatus: 500 });
  });
});
