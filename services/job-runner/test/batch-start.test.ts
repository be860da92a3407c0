/**
 * POST /api/v1/job-chains/batch (our addition): several new chains in one
 * call, each taken or refused on its own with the status the single call
 * would answer, through a real in-process JR; taken chains really run and
 * their finish reaches the in-memory RM.
 */
import { type ChainBatchOutcome, type JobChainBatchResult, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_CHAINS } from '../src/api.js';
import {
  line,
  makeChain,
  openGate,
  RecordingSink,
  reqId,
  sleep,
  startTestJr,
  summary,
  type TestJr,
  waitFor,
} from './helpers.js';

let jr: TestJr;
beforeAll(async () => {
  jr = await startTestJr();
});
afterAll(async () => {
  await jr.close();
});

async function post(url: string, body: unknown, contentType = 'application/json') {
  const res = await fetch(`${url}/api/v1/job-chains/batch`, {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const postBatch = (body: unknown) => post(jr.url, body);

describe('POST /api/v1/job-chains/batch', () => {
  it('answers one outcome per chain, in order: taken, invalid, already running, duplicate within the batch', async () => {
    // A chain already running here (held at a gate).
    const running = reqId('run');
    expect(
      (
        await fetch(`${jr.url}/api/v1/job-chains`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(makeChain(running, [{ id: 'g', type: 't-gate' }])),
        })
      ).status,
    ).toBe(200);
    await waitFor(() => jr.registry.get(running) !== undefined, 5000, 'the gated chain');

    const ok1 = reqId('ok');
    const ok2 = reqId('ok');
    const ok3 = reqId('ok');
    const cyclic = reqId('bad');
    const notPending = reqId('bad');
    const chains: unknown[] = [
      makeChain(ok1, [{ id: 'a' }, { id: 'b' }], line(['a', 'b'])),
      makeChain(cyclic, [{ id: 'a' }, { id: 'b' }], { a: ['b'], b: ['a'] }),
      // Same id as the running chain, other jobs: refused, the running one untouched.
      makeChain(running, [{ id: 'other' }]),
      makeChain(ok2, [{ id: 'x', type: 't-set-data', args: { key: 'k', value: 1 } }, { id: 'y' }], {
        x: ['y'],
      }),
      // Same id as the first chain of this batch, other jobs: the first one wins.
      makeChain(ok1, [{ id: 'dup' }]),
      makeChain(notPending, [{ id: 'a', state: State.COMPLETE }]),
      null,
      { jobs: {} },
      makeChain(ok3, [{ id: 'only' }]),
    ];
    const res = await postBatch({ chains });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      jrURL: jr.baseUrl,
      results: [
        { requestId: ok1, status: 200 },
        { requestId: cyclic, status: 400, message: 'chain is cyclic' },
        {
          requestId: running,
          status: 409,
          message: `job chain ${running} is already running on this job runner`,
        },
        { requestId: ok2, status: 200 },
        { requestId: ok1, status: 409, message: `job chain ${ok1} is already running on this job runner` },
        {
          requestId: notPending,
          status: 400,
          message:
            'invalid job state for new job chain: COMPLETE (3), job a (ID a); all job states must be PENDING',
        },
        { requestId: '', status: 400, message: 'invalid JobChain: body must be a JSON object' },
        {
          requestId: '',
          status: 400,
          message: "invalid JobChain: field 'requestId' must be a non-empty string",
        },
        { requestId: ok3, status: 200 },
      ] satisfies ChainBatchOutcome[],
    });

    // The taken chains run to completion; their finish reaches the RM.
    expect(await jr.sink.finished(ok1)).toMatchObject({ state: State.COMPLETE, finishedJobs: 2 });
    expect(await jr.sink.finished(ok2)).toMatchObject({ state: State.COMPLETE, finishedJobs: 2 });
    expect(await jr.sink.finished(ok3)).toMatchObject({ state: State.COMPLETE, finishedJobs: 1 });
    // ok1 ran its own jobs once, not the duplicate's.
    await waitFor(() => jr.sink.logs(ok1).length === 2, 5000, 'ok1 logs');
    expect(summary(jr.sink.logs(ok1))).toEqual(['a:1:COMPLETE', 'b:1:COMPLETE']);
    expect(summary(jr.sink.logs(ok2))).toEqual(['x:1:COMPLETE', 'y:1:COMPLETE']);
    expect(jr.sink.finishes(ok1)).toHaveLength(1);

    // Refused chains were never registered.
    expect(jr.registry.get(cyclic)).toBeUndefined();
    expect(jr.registry.get(notPending)).toBeUndefined();
    expect(jr.sink.finishes(cyclic)).toEqual([]);
    expect(jr.sink.logs(notPending)).toEqual([]);

    // The running chain was not replaced: still at its gate, then finishes with its own job.
    expect(jr.registry.get(running)).toBeDefined();
    expect(jr.sink.finishes(running)).toEqual([]);
    await openGate(running, 'g');
    expect(await jr.sink.finished(running)).toMatchObject({ state: State.COMPLETE, finishedJobs: 1 });
    expect(summary(jr.sink.logs(running))).toEqual(['g:1:COMPLETE']);
  });

  it('JrClient.startChains: 50 chains in one call all run to completion', async () => {
    const ids = Array.from({ length: 50 }, () => reqId('many'));
    const jsons = ids.map((id) =>
      JSON.stringify(makeChain(id, [{ id: 'a' }, { id: 'b' }], line(['a', 'b']))),
    );
    const answer: JobChainBatchResult = await jr.client.startChains(jsons);
    expect(answer.jrURL).toBe(jr.baseUrl);
    expect(answer.results).toEqual(ids.map((requestId) => ({ requestId, status: 200 })));
    for (const id of ids)
      expect(await jr.sink.finished(id)).toMatchObject({
        requestId: id,
        state: State.COMPLETE,
        finishedJobs: 2,
      });
  });

  it('an empty list is a 200 with no outcomes', async () => {
    const res = await postBatch({ chains: [] });
    expect(res).toEqual({ status: 200, body: { jrURL: jr.baseUrl, results: [] } });
  });

  it.each([
    ['an empty object', {}],
    ['a list instead of an object', [makeChain('x', [{ id: 'a' }])]],
    ['chains that is not a list', { chains: { a: makeChain('x', [{ id: 'a' }]) } }],
    ['chains that is null', { chains: null }],
    ['a JSON null', 'null'],
    ['a JSON string', '"chains"'],
  ])('400 with the standard error body for %s', async (_what, body) => {
    const res = await postBatch(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      message: "invalid JobChainBatch: body must be a JSON object with a 'chains' list",
      requestId: '',
      httpStatus: 400,
    });
  });

  it('400 for no body and for malformed JSON; 415 for a non-JSON content type', async () => {
    const empty = await fetch(`${jr.url}/api/v1/job-chains/batch`, { method: 'POST' });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({
      message: "invalid JobChainBatch: body must be a JSON object with a 'chains' list",
      requestId: '',
      httpStatus: 400,
    });
    const bad = await postBatch('{"chains":[');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ requestId: '', httpStatus: 400 });
    expect(bad.body.message).toMatch(/^malformed JSON body/);
    expect((await post(jr.url, 'chains', 'text/plain')).status).toBe(415);
  });

  it(`400 for more than ${MAX_BATCH_CHAINS} chains, and none of them is taken; exactly ${MAX_BATCH_CHAINS} is allowed`, async () => {
    expect(MAX_BATCH_CHAINS).toBe(1000);
    const ids = Array.from({ length: MAX_BATCH_CHAINS + 1 }, () => reqId('over'));
    const res = await postBatch({ chains: ids.map((id) => makeChain(id, [{ id: 'a' }])) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      message: `invalid JobChainBatch: ${MAX_BATCH_CHAINS + 1} chains, at most ${MAX_BATCH_CHAINS} per call`,
      requestId: '',
      httpStatus: 400,
    });
    for (const id of ids) expect(jr.registry.get(id)).toBeUndefined();
    await sleep(50);
    expect(ids.some((id) => jr.sink.logs(id).length > 0)).toBe(false);

    // At the limit the call is read (chains refused one by one here, so nothing runs).
    const atLimit = await postBatch({
      chains: Array.from({ length: MAX_BATCH_CHAINS }, (_, i) => ({ requestId: `limit${i}`, jobs: [] })),
    });
    expect(atLimit.status).toBe(200);
    expect(atLimit.body.results).toHaveLength(MAX_BATCH_CHAINS);
    expect(
      (atLimit.body.results as ChainBatchOutcome[]).every(
        (r, i) =>
          r.requestId === `limit${i}` &&
          r.status === 400 &&
          r.message === "invalid JobChain: field 'jobs' must be a JSON object of job id to job",
      ),
    ).toBe(true);
  });

  it('503 while the JR is draining, and nothing of the batch is taken', async () => {
    const sink = new RecordingSink();
    const local = await startTestJr({ sink, graceMs: 5000 });
    try {
      const busy = reqId('busy');
      await local.client.startChain(makeChain(busy, [{ id: 'a', type: 't-ignore-stop', args: { ms: 400 } }]));
      await waitFor(async () => (await local.client.running(busy)).length === 1, 5000, 'busy chain running');
      const shutdown = local.shutdown();
      await waitFor(() => local.registry.draining, 2000, 'draining');
      const refusedId = reqId('late');
      const res = await post(local.url, { chains: [makeChain(refusedId, [{ id: 'a' }])] });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        message: 'Job Runner is shutting down - no new job chains are being started',
        requestId: '',
        httpStatus: 503,
      });
      expect(local.registry.get(refusedId)).toBeUndefined();
      await shutdown;
      expect(sink.logs(refusedId)).toEqual([]);
      expect(sink.finishes(refusedId)).toEqual([]);
    } finally {
      await local.close().catch(() => undefined);
    }
  });
});
