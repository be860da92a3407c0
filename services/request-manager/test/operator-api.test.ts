/**
 * Idempotent submit, plans (dryRun) and explain through the HTTP API, with a
 * fake Job Runner, on SQLite and on MariaDB.
 */
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

async function countRows(t: TestRm): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['requests', 'request_archives', 'request_args', 'job_log', 'idempotency_keys']) {
    const [row] = (await t.rm.db.ds.query(`SELECT COUNT(*) AS n FROM ${table}`)) as Array<{
      n: number | string;
    }>;
    out[table] = Number(row?.n);
  }
  return out;
}

const post = (t: TestRm, body: unknown, headers: Record<string, string> = {}, query = '') =>
  call(t.url, 'POST', `/api/v1/requests${query}`, body, headers);

describe.each(DB_KINDS)('operator features on %s', (kind) => {
  let jr: FakeJr;
  let t: TestRm;

  beforeAll(async () => {
    jr = await new FakeJr().start();
    t = await startTestRm({
      db: kind,
      jrUrl: jr.url,
      overrides: { 'idempotency.ttl': '2s' },
      authenticator: { authenticate: (req) => ({ name: String(req.headers['x-user'] ?? ''), roles: [] }) },
    });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  describe('Idempotency-Key', () => {
    const body = { type: 'with-args', args: { host: 'h1', count: 3 } };

    it('a repeat with the same body answers the first request with 200; nothing new is created', async () => {
      const first = await post(t, body, { 'Idempotency-Key': 'k-same' });
      expect(first.status).toBe(201);
      const before = await countRows(t);
      const again = await post(
        t,
        { args: { count: 3, host: 'h1' }, type: 'with-args' },
        { 'Idempotency-Key': '"k-same"' },
      );
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const a = first.json as Record<string, unknown>;
      const b = again.json as Record<string, unknown>;
      expect(b.id).toBe(a.id);
      expect(Object.keys(b)).toEqual(Object.keys(a));
      expect(await countRows(t)).toEqual(before);
      expect([...jr.chains.keys()].filter((id) => id === a.id)).toHaveLength(1);
    });

    it('the same key with another body is 422 naming the key', async () => {
      expect((await post(t, body, { 'Idempotency-Key': 'k-diff' })).status).toBe(201);
      const res = await post(t, { ...body, args: { host: 'h2', count: 3 } }, { 'Idempotency-Key': 'k-diff' });
      expect(res.status).toBe(422);
      expect((res.json as { message: string }).message).toContain("'k-diff'");
    });

    it('keys are per user: another user with the same key creates its own request', async () => {
      const a = await post(t, body, { 'Idempotency-Key': 'k-user', 'X-User': 'alice' });
      const b = await post(t, body, { 'Idempotency-Key': 'k-user', 'X-User': 'bob' });
      expect([a.status, b.status]).toEqual([201, 201]);
      expect((a.json as { id: string }).id).not.toBe((b.json as { id: string }).id);
    });

    it('a failed create (400) does not keep the key: the fixed body is created', async () => {
      const bad = await post(t, { type: 'with-args', args: { host: 'h1' } }, { 'Idempotency-Key': 'k-fix' });
      expect(bad.status).toBe(400);
      const good = await post(t, body, { 'Idempotency-Key': 'k-fix' });
      expect(good.status).toBe(201);
    });

    it('a key longer than 255 characters or empty is a 400 naming the header, before anything is stored', async () => {
      const before = await countRows(t);
      for (const key of ['k'.repeat(256), '""']) {
        const res = await post(t, body, { 'Idempotency-Key': key });
        expect(res.status).toBe(400);
        expect((res.json as { message: string }).message).toContain('Idempotency-Key');
      }
      expect(await countRows(t)).toEqual(before);
    });

    it('after idempotency.ttl the key counts as new, and expired keys are purged', async () => {
      const first = await post(t, body, { 'Idempotency-Key': 'k-ttl' });
      await new Promise((r) => setTimeout(r, 2100));
      const second = await post(t, body, { 'Idempotency-Key': 'k-ttl' });
      expect(second.status).toBe(201);
      expect((second.json as { id: string }).id).not.toBe((first.json as { id: string }).id);
      await new Promise((r) => setTimeout(r, 2100));
      expect(await t.rm.idempotency.purgeExpired()).toBeGreaterThan(0);
      const [row] = (await t.rm.db.ds.query('SELECT COUNT(*) AS n FROM idempotency_keys')) as Array<{
        n: unknown;
      }>;
      expect(Number(row?.n)).toBe(0);
    });
  });

  describe('dryRun', () => {
    it('a bad dryRun value is a 400 naming dryRun before the body is read', async () => {
      const res = await call(t.url, 'POST', '/api/v1/requests?dryRun=not-a-boolean', undefined);
      expect(res.status).toBe(400);
      expect((res.json as { message: string }).message).toContain('dryRun');
    });

    it('dryRun=true answers 200 with the plan and its JobChain; nothing is stored, no JR is called', async () => {
      const before = await countRows(t);
      const chainsBefore = jr.chains.size;
      const res = await post(t, { type: 'with-args', args: { host: 'h1', count: 3 } }, {}, '?dryRun=true');
      expect(res.status).toBe(200);
      const plan = res.json as Record<string, unknown> & { JobChain: { requestId: string; jobs: object } };
      expect(plan.id).toBeUndefined();
      expect(plan).toMatchObject({ type: 'with-args', state: State.PENDING, finishedJobs: 0 });
      expect(plan.JobChain.requestId).toBe('');
      expect(Object.keys(plan.JobChain.jobs).length).toBe(plan.totalJobs);
      expect(await countRows(t)).toEqual(before);
      expect(jr.chains.size).toBe(chainsBefore);
    });

    it('a plan of bad input is the same 400 as a create; dryRun=false creates', async () => {
      expect((await post(t, { type: 'with-args', args: {} }, {}, '?dryRun=true')).status).toBe(400);
      expect(
        (await post(t, { type: 'with-args', args: { host: 'h', count: 1 } }, {}, '?dryRun=false')).status,
      ).toBe(201);
    });
  });

  describe('explain', () => {
    it('a RUNNING request: jobs wait on their dependencies, the first is ready on its JR', async () => {
      const created = await post(t, { type: 'test', args: { sleepTime: '10' } });
      const id = (created.json as { id: string }).id;
      const res = await call(t.url, 'GET', `/api/v1/requests/${id}/explain`);
      expect(res.status).toBe(200);
      const ex = res.json as {
        state: string;
        final: boolean;
        jobs: Array<{ name: string; reasons: Array<{ kind: string; jobs?: Array<{ name: string }> }> }>;
      };
      expect(ex).toMatchObject({ state: 'RUNNING', final: false });
      expect(ex.jobs.filter((j) => j.reasons[0]?.kind === 'ready')).toHaveLength(1);
      const first = ex.jobs.find((j) => j.name === 'first-job');
      expect(first?.reasons[0]).toMatchObject({ kind: 'dependencies', jobs: [{ state: 'PENDING' }] });
    });

    it('an unknown request is 404', async () => {
      expect((await call(t.url, 'GET', '/api/v1/requests/nope/explain')).status).toBe(404);
    });
  });
});
