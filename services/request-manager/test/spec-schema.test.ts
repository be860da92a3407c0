/** GET /api/v1/spec-schema.json: the spec package's JSON Schema, served by a real RM. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

describe('GET /api/v1/spec-schema.json', () => {
  let jr: FakeJr;
  let t: TestRm;
  beforeAll(async () => {
    jr = await new FakeJr().start();
    t = await startTestRm({ db: 'sqlite', jrUrl: jr.url });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  it('answers the schema of @spincycle/spec/schema.json as JSON', async () => {
    const file = createRequire(import.meta.url).resolve('@spincycle/spec/schema.json');
    const res = await call(t.url, 'GET', '/api/v1/spec-schema.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    expect(res.json).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema' });
    // Read once, answered the same again.
    expect((await call(t.url, 'GET', '/api/v1/spec-schema.json')).text).toBe(res.text);
  });

  it('is read-only: POST is a 405', async () => {
    expect((await call(t.url, 'POST', '/api/v1/spec-schema.json', {})).status).toBe(405);
  });
});
