/**
 * The shared internal token on the JR: callers of its API must send it
 * (`auth.internal_token_file`, by default the `rm_client.internal_token_file`
 * it sends to the RM), and it is sent on every call to the RM.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JrClient, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJrConfig } from '../src/config.js';
import { RmGateway } from '../src/rm-gateway.js';
import { makeChain, reqId, startTestJr, type TestJr } from './helpers.js';

const TOKEN = 'shared-internal-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'jr-auth-'));
const tokenFile = join(dir, 'internal');
const otherFile = join(dir, 'other');
writeFileSync(tokenFile, `${TOKEN}\n`);
writeFileSync(otherFile, 'another-token-abcdefghijklmnop\n');
const twoFile = join(dir, 'two');
writeFileSync(twoFile, `# rotating\n${TOKEN}\n\nnext-token-abcdefghijklmnop\n`);

const raw = async (
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
) => {
  const res = await fetch(url + path, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    body,
  });
  return {
    status: res.status,
    json: (await res.json().catch(() => undefined)) as { message?: string } | undefined,
  };
};

describe('config', () => {
  it('the API token defaults to the token sent to the RM; auth.internal_token_file overrides it', () => {
    expect(loadJrConfig([], {}, { 'rm_client.internal_token_file': tokenFile })).toMatchObject({
      rmInternalToken: TOKEN,
      apiInternalTokens: [TOKEN],
    });
    expect(
      loadJrConfig(
        [],
        {},
        { 'rm_client.internal_token_file': tokenFile, 'auth.internal_token_file': otherFile },
      ),
    ).toMatchObject({ rmInternalToken: TOKEN, apiInternalTokens: ['another-token-abcdefghijklmnop'] });
    expect(loadJrConfig([], {}, {})).toMatchObject({
      rmInternalToken: undefined,
      apiInternalTokens: undefined,
    });
    // A rotation: one token per line (comments skipped); all accepted, the first one sent.
    expect(loadJrConfig([], {}, { 'rm_client.internal_token_file': twoFile })).toMatchObject({
      rmInternalToken: TOKEN,
      apiInternalTokens: [TOKEN, 'next-token-abcdefghijklmnop'],
    });
    expect(() => loadJrConfig([], {}, { 'rm_client.internal_token_file': join(dir, 'missing') })).toThrow(
      /'rm_client.internal_token_file': cannot read/,
    );
  });
});

describe('a JR with an internal token', () => {
  let jr: TestJr;
  beforeAll(async () => {
    jr = await startTestJr({ config: { 'auth.internal_token_file': tokenFile } });
  });
  afterAll(async () => {
    await jr?.close();
  });

  it('refuses API calls without the token or with a wrong one (401, before reading the body)', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/v1/status/running', undefined],
      ['POST', '/api/v1/job-chains', '{"broken'],
      ['POST', '/api/v1/job-chains/resume', '{}'],
      ['PUT', '/api/v1/job-chains/x/stop', undefined],
      ['GET', '/API/v1/status/running/', undefined],
    ] as const) {
      const none = await raw(jr.url, method, path, {}, body);
      expect([path, none.status, none.json?.message]).toEqual([
        path,
        401,
        'this Job Runner takes calls from Request Managers only: internal token required',
      ]);
      const wrong = await raw(jr.url, method, path, { 'X-Spincycle-Internal-Token': 'nope' }, body);
      expect([path, wrong.status, wrong.json?.message]).toEqual([path, 401, 'invalid internal token']);
    }
    expect(jr.registry.list()).toEqual([]);
    expect((await fetch(`${jr.url}/health`)).status).toBe(200);
    expect(await (await fetch(`${jr.url}/version`)).text()).toBe('2.1.1');
  });

  it('accepts any token of a rotation, and only those', async () => {
    const guarded = await startTestJr({ config: { 'auth.internal_token_file': twoFile } });
    try {
      for (const token of [TOKEN, 'next-token-abcdefghijklmnop'])
        expect(
          (await raw(guarded.url, 'GET', '/api/v1/status/running', { 'X-Spincycle-Internal-Token': token }))
            .status,
        ).toBe(200);
      expect(
        (await raw(guarded.url, 'GET', '/api/v1/status/running', { 'X-Spincycle-Internal-Token': 'nope' }))
          .status,
      ).toBe(401);
    } finally {
      await guarded.close();
    }
  });

  it('runs chains for a caller with the token', async () => {
    const client = new JrClient({
      baseURL: jr.url,
      retry: { attempts: 1 },
      headers: { 'X-Spincycle-Internal-Token': TOKEN },
    });
    const id = reqId();
    await client.startChain(makeChain(id, [{ id: 'a' }]));
    const fin = await jr.sink.finished(id, 5000);
    expect(fin.state).toBe(State.COMPLETE);
    expect(await client.running()).toEqual([]);
  });
});

describe('RmGateway', () => {
  it('sends the internal token on every call to the RM', async () => {
    const seen: Array<[string | undefined, IncomingHttpHeaders]> = [];
    const server = createServer((req, res) => {
      seen.push([req.url, req.headers]);
      req.resume();
      req.on('end', () => {
        res.statusCode = req.method === 'POST' ? 201 : 200;
        res.setHeader('Content-Type', 'application/json');
        res.end(req.url?.endsWith('heartbeat') ? '{"drop":[],"leaseMs":30000}' : 'null');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const gw = new RmGateway([url], { timeoutMs: 2000, internalToken: TOKEN });
      await gw.report({
        logs: [],
        progress: [{ requestId: 'r', finishedJobs: 1 }],
        finishes: [
          { requestId: 'r', state: State.COMPLETE, finishedAt: new Date().toISOString(), finishedJobs: 1 },
        ],
      });
      await gw.suspend({
        requestId: 'r',
        jobChain: { requestId: 'r', jobs: {}, adjacencyList: {}, state: 7, finishedJobs: 0 },
        totalJobTries: {},
        latestRunJobTries: {},
        sequenceTries: {},
      });
      await gw.heartbeat({
        jrURL: 'http://jr',
        instance: 'i',
        startedAt: new Date().toISOString(),
        draining: false,
        requests: [],
      });
      expect(seen.map(([u]) => u)).toEqual([
        '/api/v1/internal/reports',
        '/api/v1/requests/r/suspend',
        '/api/v1/job-runners/heartbeat',
      ]);
      expect(seen.map(([, h]) => h['x-spincycle-internal-token'])).toEqual([TOKEN, TOKEN, TOKEN]);
    } finally {
      server.close();
    }
  });
});
