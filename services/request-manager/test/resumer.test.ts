/**
 * The resumer against a real database (SQLite and MariaDB) and a fake JR:
 * resume, claims, abandoned claims, expiry, and several RMs at once.
 */
import { type JobChain, State } from '@spincycle/protocol';
import { silentLogger } from '@spincycle/service-kit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SuspendedJobChainEntity } from '../src/db/entities.js';
import { JrPool } from '../src/jr-pool.js';
import { Resumer } from '../src/resumer.js';
import { JobLogStore } from '../src/stores/job-log-store.js';
import { RequestStore } from '../src/stores/request-store.js';
import { SjcStore } from '../src/stores/sjc-store.js';
import { DB_KINDS } from './support/db.js';
import { deadUrl, FakeJr } from './support/fake-jr.js';
import { startTestRm, type TestRm } from './support/rm.js';

const HOUR = 3600_000;

describe.each(DB_KINDS)('resumer on %s', (kind) => {
  let jr: FakeJr;
  let t: TestRm;
  let sjcs: SjcStore;
  let requests: RequestStore;

  const resumer = (jrUrl = jr.url, instanceId?: string) =>
    new Resumer(
      {
        db: t.rm.db,
        requests,
        sjcs,
        logs: new JobLogStore(t.rm.db),
        jrs: new JrPool([jrUrl], { timeoutMs: 1000, attempts: 1 }),
        logger: silentLogger(),
      },
      { intervalMs: 60_000, ttlMs: HOUR, claimTimeoutMs: 5 * 60_000, instanceId },
    );

  /** A request created through the API and suspended by the (fake) JR. */
  async function suspended(
    opts: { suspendedAgoMs?: number; claimedBy?: string; claimedAgoMs?: number } = {},
  ): Promise<string> {
    const id = (await t.client.createRequest('test', { sleepTime: '10' })).id;
    const chain = structuredClone(jr.chains.get(id)) as JobChain;
    const [first] = Object.values(chain.jobs);
    if (first) first.state = State.COMPLETE;
    await t.internal.suspend({
      requestId: id,
      jobChain: chain,
      totalJobTries: first ? { [first.id]: 1 } : {},
      latestRunJobTries: {},
      sequenceTries: {},
    });
    jr.chains.delete(id);
    const set: Record<string, unknown> = {};
    if (opts.suspendedAgoMs) set.suspended_at = new Date(Date.now() - opts.suspendedAgoMs);
    if (opts.claimedBy) {
      const at = new Date(Date.now() - (opts.claimedAgoMs ?? 0));
      Object.assign(set, { rm_host: opts.claimedBy, claimed_at: at, updated_at: at });
    }
    if (Object.keys(set).length > 0) {
      await t.rm.db.ds
        .createQueryBuilder()
        .update(SuspendedJobChainEntity)
        .set(set)
        .where('request_id = :id', { id })
        .execute();
    }
    return id;
  }

  beforeAll(async () => {
    jr = await new FakeJr().start();
    t = await startTestRm({ db: kind, jrUrl: jr.url });
    sjcs = new SjcStore(t.rm.db);
    requests = new RequestStore(t.rm.db);
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });
  beforeEach(async () => {
    jr.mode = 'accept';
    // Each test starts with no SJCs left by earlier ones.
    await t.rm.db.ds.createQueryBuilder().delete().from(SuspendedJobChainEntity).execute();
  });

  it('when an SJC is unclaimed and its request SUSPENDED, then it is sent to a JR, the request is RUNNING there and the SJC is gone', async () => {
    const id = await suspended();
    const counts = await resumer().resumeAll();
    expect(counts).toMatchObject({ resumed: 1, failed: 0 });
    expect(jr.resumed.at(-1)).toMatchObject({ requestId: id, totalJobTries: expect.any(Object) });
    const req = await t.client.getRequest(id);
    expect(req).toMatchObject({ state: State.RUNNING, jrURL: jr.url, finishedAt: null });
    expect(await sjcs.get(id)).toBeUndefined();
  });

  it('when no JR takes it, then the request is SUSPENDED again and the SJC unclaimed for the next run', async () => {
    const id = await suspended();
    const r = resumer(await deadUrl());
    expect(await r.resumeAll()).toMatchObject({ resumed: 0, failed: 1 });
    const req = await t.client.getRequest(id);
    expect(req.state).toBe(State.SUSPENDED);
    expect(req).not.toHaveProperty('jrURL');
    expect((await sjcs.get(id))?.rm_host).toBeNull();
  });

  it('when another RM holds a fresh claim, then neither resume nor cleanup touch it', async () => {
    const id = await suspended({ claimedBy: 'other-rm', claimedAgoMs: 1000 });
    const r = resumer();
    expect(await r.resumeAll()).toMatchObject({ resumed: 0 });
    expect(await r.cleanup()).toEqual({ unclaimed: 0, expired: 0 });
    expect((await sjcs.get(id))?.rm_host).toBe('other-rm');
    expect((await t.client.getRequest(id)).state).toBe(State.SUSPENDED);
  });

  it('when a claim was abandoned, then cleanup releases it and the next run resumes it', async () => {
    const id = await suspended({ claimedBy: 'dead-rm', claimedAgoMs: 10 * 60_000 });
    const r = resumer();
    expect(await r.cleanup()).toEqual({ unclaimed: 1, expired: 0 });
    expect((await sjcs.get(id))?.rm_host).toBeNull();
    expect(await r.resumeAll()).toMatchObject({ resumed: 1 });
    expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
  });

  it('when an SJC is left over for a request that is RUNNING again, then it is dropped and the request untouched', async () => {
    const id = await suspended();
    await requests.transition(id, State.SUSPENDED, { state: State.RUNNING, jr_url: 'http://elsewhere:1' });
    expect(await resumer().resumeAll()).toMatchObject({ dropped: 1 });
    expect(await sjcs.get(id)).toBeUndefined();
    expect((await t.client.getRequest(id)).jrURL).toBe('http://elsewhere:1');
  });

  it('when an SJC outlived the TTL, then cleanup FAILs the request with finishedAt and explains it on every unfinished job', async () => {
    const id = await suspended({ suspendedAgoMs: 2 * HOUR });
    const fresh = await suspended();
    const r = resumer();
    expect(await r.cleanup()).toEqual({ unclaimed: 0, expired: 1 });
    const req = await t.client.getRequest(id);
    expect(req.state).toBe(State.FAIL);
    expect(req.finishedAt).not.toBeNull();
    expect(await sjcs.get(id)).toBeUndefined();
    const logs = await t.client.getJobLogs(id);
    const chain = (await t.client.getJobChain(id)) as JobChain;
    const first = Object.values(chain.jobs)[0]?.id;
    expect(logs.length).toBe(Object.keys(chain.jobs).length - 1);
    expect(logs.map((l) => l.jobId)).not.toContain(first);
    expect(logs[0]).toMatchObject({ state: State.FAIL, try: 1 });
    expect(logs[0]?.error).toMatch(/not resumed within 3600s/);
    // The fresh one is untouched.
    expect((await t.client.getRequest(fresh)).state).toBe(State.SUSPENDED);
  });

  it('when an old claim of a dead RM covers an expired SJC, then one cleanup releases and expires it', async () => {
    const id = await suspended({ suspendedAgoMs: 2 * HOUR, claimedBy: 'dead-rm', claimedAgoMs: 2 * HOUR });
    expect(await resumer().cleanup()).toEqual({ unclaimed: 1, expired: 1 });
    expect((await t.client.getRequest(id)).state).toBe(State.FAIL);
  });

  it('when a SUSPENDED request is stopped, then the resumer has nothing left to do', async () => {
    const id = await suspended();
    await t.client.stopRequest(id);
    expect(await resumer().resumeAll()).toMatchObject({ resumed: 0, dropped: 0 });
    expect((await t.client.getRequest(id)).state).toBe(State.STOPPED);
  });

  it('when several RMs run at once, then every SJC is resumed exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await suspended());
    const before = jr.resumed.length;
    const results = await Promise.all(
      [resumer(jr.url, 'rm-a'), resumer(jr.url, 'rm-b'), resumer(jr.url, 'rm-c')].map((r) => r.resumeAll()),
    );
    expect(results.reduce((n, c) => n + c.resumed, 0)).toBe(8);
    const sent = jr.resumed.slice(before).map((s) => s.requestId);
    expect(sent.sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
  });

  it('the loop runs on its interval and stops cleanly', async () => {
    const id = await suspended();
    const r = new Resumer(
      {
        db: t.rm.db,
        requests,
        sjcs,
        logs: new JobLogStore(t.rm.db),
        jrs: new JrPool([jr.url], { timeoutMs: 1000 }),
        logger: silentLogger(),
      },
      { intervalMs: 20, ttlMs: HOUR, claimTimeoutMs: 60_000 },
    );
    r.start();
    const deadline = Date.now() + 5000;
    while ((await t.client.getRequest(id)).state !== State.RUNNING && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 20));
    await r.stop();
    expect((await t.client.getRequest(id)).state).toBe(State.RUNNING);
  });
});
