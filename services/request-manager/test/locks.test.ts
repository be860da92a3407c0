/**
 * Locks (`lock: [host]`): at most one unfinished request per host, across
 * RMs; `wait` queues a PENDING request that starts when the holder reaches a
 * final state (finish, lost JR, stop), `fail` answers 409 naming the holder.
 * Two RMs share one database where it matters.
 */
import { join } from 'node:path';
import { State, type StateValue } from '@spincycle/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RequestStore } from '../src/stores/request-store.js';
import { DB_KINDS } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, FIXTURES, startTestRm, type TestRm } from './support/rm.js';

const overrides = { 'specs.dir': join(FIXTURES, 'operator-specs'), 'locks.sweep_interval': '1h' };

const finishBody = (id: string, state: StateValue = State.COMPLETE) => ({
  requestId: id,
  state,
  finishedAt: '2030-01-02T03:04:05.678Z',
  finishedJobs: 1,
});

interface Created {
  id: string;
  state: number;
  waitingFor?: Array<{ name: string; value: string; requestId: string }>;
}

describe.each(DB_KINDS)('locks on %s', (kind) => {
  let jr: FakeJr;
  let a: TestRm;
  // A second RM on the same database on MariaDB. On SQLite both names are one RM: two RMs in one
  // process would block each other's SQLite writes (the driver waits synchronously).
  let b: TestRm;

  beforeAll(async () => {
    jr = await new FakeJr().start();
    a = await startTestRm({ db: kind, jrUrl: jr.url, overrides });
    b = kind === 'mysql' ? await startTestRm({ db: kind, jrUrl: jr.url, overrides, target: a.target }) : a;
  });
  afterAll(async () => {
    if (b !== a) await b?.close();
    await a?.close();
    await jr?.close();
  });
  afterEach(() => {
    jr.mode = 'accept';
  });

  const create = async (rm: TestRm, type: string, host: string) => {
    const res = await call(rm.url, 'POST', '/api/v1/requests', { type, args: { host } });
    return { status: res.status, body: res.json as Created & { message?: string } };
  };
  const stateOf = async (id: string) => (await a.client.getRequest(id)).state;
  /** Every final-state listener under way on both RMs has finished. */
  const settled = async () => {
    for (const rm of new Set([a.rm, b.rm])) {
      await rm.operator.locks.settle();
      await rm.operator.finals.settle();
      await rm.operator.locks.settle();
    }
  };

  it('a second create for the same host is PENDING, names the holder, and starts when the first completes', async () => {
    const first = await create(a, 'deploy-host', 'h1');
    expect(first.status).toBe(201);
    expect(first.body.state).toBe(State.RUNNING);
    const second = await create(a, 'deploy-host', 'h1');
    expect(second.status).toBe(201);
    expect(second.body.state).toBe(State.PENDING);
    expect(second.body.waitingFor).toEqual([{ name: 'host', value: 'h1', requestId: first.body.id }]);
    expect(jr.chains.has(second.body.id)).toBe(false);
    // Another host is not blocked.
    expect((await create(a, 'deploy-host', 'h2')).body.state).toBe(State.RUNNING);

    const got = await call(a.url, 'GET', `/api/v1/requests/${second.body.id}`);
    expect((got.json as Created).waitingFor?.[0]?.requestId).toBe(first.body.id);
    // A manual start cannot jump the queue.
    const start = await call(a.url, 'PUT', `/api/v1/requests/${second.body.id}/start`);
    expect(start.status).toBe(409);
    expect((start.json as { message: string }).message).toContain(first.body.id);

    await a.internal.finish(finishBody(first.body.id));
    await settled();
    expect(await stateOf(second.body.id)).toBe(State.RUNNING);
    expect(jr.chains.has(second.body.id)).toBe(true);
    expect((await call(a.url, 'GET', `/api/v1/requests/${second.body.id}`)).json).not.toHaveProperty(
      'waitingFor',
    );
  });

  it('explain: a waiter gets a lockHeld reason naming the holders, gone once it runs', async () => {
    type Explained = { state: string; reasons: Array<{ kind: string; message: string; holders?: string[] }> };
    const explain = async (rm: TestRm, id: string) =>
      (await call(rm.url, 'GET', `/api/v1/requests/${id}/explain`)).json as Explained;
    const first = await create(a, 'deploy-host', 'e1');
    const second = await create(b, 'deploy-host', 'e1');
    expect(second.body.state).toBe(State.PENDING);
    const waiting = await explain(a, second.body.id);
    const held = waiting.reasons.find((r) => r.kind === 'lockHeld');
    expect(held?.holders).toEqual([first.body.id]);
    expect(held?.message).toContain(`host=e1 is held by request ${first.body.id}`);
    // The holder itself waits for nothing.
    expect((await explain(b, first.body.id)).reasons.map((r) => r.kind)).not.toContain('lockHeld');

    await a.internal.finish(finishBody(first.body.id));
    await settled();
    const running = await explain(b, second.body.id);
    expect(running.state).toBe('RUNNING');
    expect(running.reasons.map((r) => r.kind)).not.toContain('lockHeld');
  });

  it('lockMode fail: 409 naming the holder, nothing stored; free again once the holder stops', async () => {
    const first = await create(a, 'restart-host', 'f1');
    expect(first.body.state).toBe(State.RUNNING);
    const second = await create(b, 'restart-host', 'f1');
    expect(second.status).toBe(409);
    expect(second.body.message).toContain(`held by request ${first.body.id}`);
    await a.internal.finish(finishBody(first.body.id, State.STOPPED));
    await settled();
    expect((await create(b, 'restart-host', 'f1')).body.state).toBe(State.RUNNING);
  });

  it('a lost Job Runner frees the lock: the waiter starts', async () => {
    const first = await create(a, 'deploy-host', 'l1');
    const second = await create(b, 'deploy-host', 'l1');
    expect(second.body.state).toBe(State.PENDING);
    expect(
      await a.rm.lifecycle.finalizeLost(first.body.id, jr.url, State.FAIL, 'Job Runner lost (test)'),
    ).toBe(true);
    await settled();
    expect(await stateOf(first.body.id)).toBe(State.FAIL);
    expect(await stateOf(second.body.id)).toBe(State.RUNNING);
  });

  it('across two RMs: the RM that records the final state starts the oldest waiter; a stopped waiter leaves the queue', async () => {
    const first = await create(a, 'deploy-host', 'x1');
    const stopped = await create(b, 'deploy-host', 'x1');
    const third = await create(a, 'deploy-host', 'x1');
    expect([stopped.body.state, third.body.state]).toEqual([State.PENDING, State.PENDING]);
    expect((await call(b.url, 'PUT', `/api/v1/requests/${stopped.body.id}/stop`)).status).toBe(200);
    await settled();
    expect(await stateOf(stopped.body.id)).toBe(State.STOPPED);
    expect(await stateOf(third.body.id)).toBe(State.PENDING);
    await b.internal.finish(finishBody(first.body.id));
    await settled();
    expect(await stateOf(third.body.id)).toBe(State.RUNNING);
  });

  it('a waiter that no Job Runner takes FAILs and frees the lock for the next one', async () => {
    const first = await create(a, 'deploy-host', 'r1');
    const second = await create(a, 'deploy-host', 'r1');
    const third = await create(b, 'deploy-host', 'r1');
    jr.mode = 'refuse-400';
    await a.internal.finish(finishBody(first.body.id));
    await settled();
    // Both waiters were given the lock in turn; no JR took either chain.
    expect(await stateOf(second.body.id)).toBe(State.FAIL);
    expect(await stateOf(third.body.id)).toBe(State.FAIL);
    jr.mode = 'accept';
    expect((await create(b, 'deploy-host', 'r1')).body.state).toBe(State.RUNNING);
  });

  it('the sweep frees locks whose release was missed (a final state written by an RM that died) and starts the waiter', async () => {
    const first = await create(a, 'deploy-host', 's1');
    const second = await create(a, 'deploy-host', 's1');
    // The final state, without the listeners (as if its RM died right after writing it).
    const store = new RequestStore(a.rm.db);
    const patch = { state: State.COMPLETE, finished_at: new Date(), jr_url: null };
    expect(await store.transition(first.body.id, State.RUNNING, patch)).toBe(true);
    expect(await stateOf(second.body.id)).toBe(State.PENDING);
    await b.rm.operator.locks.sweep();
    expect(await stateOf(second.body.id)).toBe(State.RUNNING);
  });
});
