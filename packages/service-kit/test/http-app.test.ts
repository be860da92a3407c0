import { NotFoundError, parseJson } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createApp,
  finishApp,
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
  app.get('/boom', () => {
    throw new Error('secret internal detail');
  });
  finishApp(app, logger);
  srv = await startServer(app, '127.0.0.1:0');
});
afterAll(() => srv.close());

const call = (path: string, init?: RequestInit) => fetch(srv.url + path, init);

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
    expect((await call('/things/x', { method: 'DELETE' })).status).toBe(405);
    expect((await call('/nope')).status).toBe(404);
  });
  it('rejects malformed JSON, wrong content type and oversized bodies', async () => {
    const bad = await call('/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/malformed JSON/);
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
  it('never leaks internal error text', async () => {
    const res = await call('/boom');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error', requestId: '', httpStatus: 500 });
  });
});
