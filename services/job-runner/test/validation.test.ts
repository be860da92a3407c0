/**
 * Validation of incoming chains (docs/compatibility.md#chain-validation) through the HTTP API: every
 * rule is a 400 with its message (the original answered state problems with
 * 500); duplicates are 409.
 */
import { State } from '@spincycle/protocol';
import { validateJobChain } from '@spincycle/traversal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { line, makeChain, reqId, startTestJr, type TestJr } from './helpers.js';

let jr: TestJr;
beforeAll(async () => {
  jr = await startTestJr();
});
afterAll(async () => {
  await jr.close();
});

async function post(path: string, body: unknown, contentType = 'application/json') {
  const res = await fetch(`${jr.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const postChain = (body: unknown) => post('/api/v1/job-chains', body);
const postResume = (body: unknown) => post('/api/v1/job-chains/resume', body);

describe('POST /api/v1/job-chains validation (new chains)', () => {
  it.each([
    [
      'an adjacency list naming a job that does not exist',
      (id: string) => makeChain(id, [{ id: 'a' }], { a: ['ghost'] }),
      'invalid adjacency list: some jobs exist in chain.AdjacencyList but not chain.Jobs (ghost)',
    ],
    [
      'an adjacency list key that is not a job',
      (id: string) => makeChain(id, [{ id: 'a' }], { nope: ['a'] }),
      'invalid adjacency list: some jobs exist in chain.AdjacencyList but not chain.Jobs (nope)',
    ],
    [
      'two start jobs',
      (id: string) => makeChain(id, [{ id: 'a' }, { id: 'b' }, { id: 'c' }], { a: ['c'], b: ['c'] }),
      'job chain has more than one start job (job with indegree 0)',
    ],
    [
      'two end jobs',
      (id: string) => makeChain(id, [{ id: 'a' }, { id: 'b' }, { id: 'c' }], { a: ['b', 'c'] }),
      'job chain has more than one end job (job with outdegree 0)',
    ],
    [
      'a cycle',
      (id: string) =>
        makeChain(id, [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }], {
          a: ['b'],
          b: ['c'],
          c: ['b', 'd'],
        }),
      'chain is cyclic',
    ],
    [
      'a chain that is all cycle (no start job)',
      (id: string) => makeChain(id, [{ id: 'a' }, { id: 'b' }], { a: ['b'], b: ['a'] }),
      'chain is cyclic',
    ],
    [
      'a job that is not PENDING',
      (id: string) =>
        makeChain(id, [{ id: 'a' }, { id: 'b', name: 'bee', state: State.COMPLETE }], { a: ['b'] }),
      'invalid job state for new job chain: COMPLETE (3), job bee (ID b); all job states must be PENDING',
    ],
    [
      'finishedJobs other than 0',
      (id: string) => makeChain(id, [{ id: 'a' }], {}, { finishedJobs: 2 }),
      'FinishedJobs = 2, expected 0 for new job chain',
    ],
    [
      'no request id',
      (_id: string) => makeChain('', [{ id: 'a' }]),
      "invalid JobChain: field 'requestId' must be a non-empty string",
    ],
    [
      'jobs that are not an object',
      (id: string) => ({ requestId: id, jobs: [], adjacencyList: {} }),
      "invalid JobChain: field 'jobs' must be a JSON object of job id to job",
    ],
    [
      'a job whose key is not its id',
      (id: string) => ({ ...makeChain(id, [{ id: 'a' }]), jobs: { x: makeChain(id, [{ id: 'a' }]).jobs.a } }),
      'invalid JobChain: job x: key does not match its id "a"',
    ],
    [
      'a negative retry',
      (id: string) => makeChain(id, [{ id: 'a', retry: -1 }]),
      "invalid JobChain: job a: field 'retry' must be a non-negative integer",
    ],
    [
      'a bad retryWait',
      (id: string) => makeChain(id, [{ id: 'a', retryWait: 'soon' }]),
      `invalid JobChain: job a: field 'retryWait': "soon" is not a duration such as 500ms or 1m30s`,
    ],
    [
      'a sequence id that is not a job',
      (id: string) => makeChain(id, [{ id: 'a', seq: 'zz' }]),
      'job a: sequenceId zz is not a job in the chain',
    ],
    [
      'an adjacency entry that is not a list',
      (id: string) => ({ ...makeChain(id, [{ id: 'a' }]), adjacencyList: { a: 'b' } }),
      'invalid JobChain: adjacencyList.a must be a list of job ids',
    ],
  ])('400 for %s', async (_what, build, message) => {
    const id = reqId();
    const res = await postChain(build(id));
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(message);
    expect(jr.registry.get(id)).toBeUndefined();
  });

  it('400 for a missing body, malformed JSON; 415 for a non-JSON content type', async () => {
    const empty = await fetch(`${jr.url}/api/v1/job-chains`, { method: 'POST' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { message: string }).message).toBe(
      'invalid JobChain: body must be a JSON object',
    );
    const bad = await post('/api/v1/job-chains', '{"requestId":');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^malformed JSON body/);
    expect((await post('/api/v1/job-chains', 'hello', 'text/plain')).status).toBe(415);
  });

  it('400 for job args nested 5,000 levels deep (taken before, and then impossible to suspend: no JSON writer goes that deep)', async () => {
    const id = reqId();
    const text = JSON.stringify(makeChain(id, [{ id: 'a', args: { x: '@DEEP@' } }])).replace(
      '"@DEEP@"',
      `${'['.repeat(5000)}1${']'.repeat(5000)}`,
    );
    const res = await post('/api/v1/job-chains', text);
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('JSON body nested too deeply: more than 512 levels of objects and arrays');
    expect(jr.registry.get(id)).toBeUndefined();
  });

  it('409 for a request id already running here', async () => {
    const id = reqId();
    const chain = makeChain(id, [{ id: 'a', type: 't-sleep', args: { ms: 300 } }]);
    expect((await postChain(chain)).status).toBe(200);
    const again = await postChain(makeChain(id, [{ id: 'a' }]));
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(`job chain ${id} is already running on this job runner`);
    await jr.sink.finished(id);
  });

  it('accepts Go-style zero values for absent counters and a chain without adjacency list', async () => {
    const id = reqId();
    const res = await postChain({ requestId: id, jobs: { a: { id: 'a', type: 'noop', state: 1 } } });
    expect(res.status).toBe(200);
    expect((await jr.sink.finished(id)).state).toBe(State.COMPLETE);
  });

  // How fast is measured by the benchmark (pnpm bench), not here: a timed test fails on a busy machine.
  it('validates a 7,000-job chain (wide fan-out and fan-in)', () => {
    const jobs = [{ id: 'b' }, { id: 'e' }];
    const edges: Record<string, string[]> = { b: [] };
    for (let h = 0; h < 1000; h++) {
      const ids = Array.from({ length: 7 }, (_, k) => `h${h}j${k}`);
      for (const j of ids) jobs.push({ id: j });
      edges.b?.push(ids[0] as string);
      Object.assign(edges, line(ids));
      edges[ids[6] as string] = ['e'];
    }
    const v = validateJobChain(JSON.parse(JSON.stringify(makeChain('big', jobs, edges))), 'new');
    expect(v.order).toHaveLength(7002);
    expect(v.order[0]).toBe(v.ids.indexOf('b'));
    expect(v.order[7001]).toBe(v.ids.indexOf('e'));
  });

  it('keeps one of each duplicate edge, also in a long successor list', () => {
    const mids = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const edges: Record<string, string[]> = { b: [...mids, 'm7', ...mids], e: [] };
    for (const m of mids) edges[m] = ['e', 'e'];
    const jobs = [{ id: 'b' }, ...mids.map((id) => ({ id })), { id: 'e' }];
    const v = validateJobChain(JSON.parse(JSON.stringify(makeChain('dups', jobs, edges))), 'new');
    const at = (id: string) => v.ids.indexOf(id);
    expect(v.successors[at('b')]).toEqual(mids.map(at));
    expect(v.successors[at('m7')]).toEqual([at('e')]);
    expect(v.order).toHaveLength(52);
    expect(v.order[51]).toBe(at('e'));
  });
});

describe('POST /api/v1/job-chains/resume validation (existing chains)', () => {
  const sjc = (
    id: string,
    chain = makeChain(id, [{ id: 'a', state: State.COMPLETE }, { id: 'b' }], line(['a', 'b']), {
      finishedJobs: 1,
    }),
  ) => ({
    requestId: id,
    jobChain: chain,
    totalJobTries: { a: 1 },
    latestRunJobTries: { a: 1 },
    sequenceTries: { a: 1 },
  });

  it('accepts PENDING, COMPLETE and STOPPED jobs', async () => {
    const id = reqId();
    const chain = makeChain(
      id,
      [{ id: 'a', state: State.COMPLETE }, { id: 'b', state: State.STOPPED }, { id: 'c' }],
      line(['a', 'b', 'c']),
      { finishedJobs: 1 },
    );
    expect((await postResume(sjc(id, chain))).status).toBe(200);
    expect(await jr.sink.finished(id)).toMatchObject({ state: State.COMPLETE, finishedJobs: 3 });
  });

  it.each([
    [
      'a RUNNING job',
      (id: string) =>
        sjc(
          id,
          makeChain(
            id,
            [
              { id: 'a', state: State.COMPLETE },
              { id: 'b', state: State.RUNNING },
            ],
            line(['a', 'b']),
            { finishedJobs: 1 },
          ),
        ),
      'invalid job state for existing job chain: RUNNING (2), job b (ID b); all job states must be PENDING, COMPLETE, or STOPPED',
    ],
    [
      'a finishedJobs that does not match',
      (id: string) =>
        sjc(
          id,
          makeChain(id, [{ id: 'a', state: State.COMPLETE }, { id: 'b' }], line(['a', 'b']), {
            finishedJobs: 0,
          }),
        ),
      'FinishedJobs = 0 but there are 1 jobs with state = COMPLETE',
    ],
    [
      'a missing jobChain',
      (id: string) => ({ requestId: id }),
      "invalid SuspendedJobChain: field 'jobChain' must be a job chain object",
    ],
    [
      'a request id that differs from its chain',
      (id: string) => ({ ...sjc(id), requestId: 'other' }),
      `invalid SuspendedJobChain: requestId other does not match jobChain.requestId ${'$ID'}`,
    ],
    [
      'bad counters',
      (id: string) => ({ ...sjc(id), totalJobTries: { a: -1 } }),
      'invalid SuspendedJobChain: totalJobTries.a must be a non-negative integer',
    ],
    [
      'a cyclic chain',
      (id: string) => sjc(id, makeChain(id, [{ id: 'a' }, { id: 'b' }], { a: ['b'], b: ['a'] })),
      'chain is cyclic',
    ],
  ])('400 for %s', async (_what, build, message) => {
    const id = reqId();
    const res = await postResume(build(id));
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(message.replace('$ID', id));
  });
});

describe('other routes', () => {
  it('GET /version and /health', async () => {
    const v = await fetch(`${jr.url}/version`);
    expect(await v.text()).toBe('2.1.1');
    expect((await fetch(`${jr.url}/health`)).status).toBe(200);
  });

  it('unknown paths are 404, wrong methods 405', async () => {
    expect((await fetch(`${jr.url}/api/v1/nope`)).status).toBe(404);
    expect((await fetch(`${jr.url}/api/v1/job-chains`)).status).toBe(405);
  });

  it('GET /api/v1/status/running is [] when nothing runs here', async () => {
    const other = await startTestJr();
    try {
      const res = await fetch(`${other.url}/api/v1/status/running`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
