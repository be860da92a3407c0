/**
 * Idempotent submit across two RM processes on one MariaDB, and "why is it
 * not done?" with a real Job Runner on MariaDB and on SQLite.
 */
import { ApiError, type RequestExplanation, RmClient, State } from '@spincycle/protocol';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, newMysqlDatabase, type ServiceProcess } from '../support/system.js';
import { newLedger, startHaJr, startHaRm, until, untilFinal } from './support.js';

const procs: ServiceProcess[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop('SIGKILL');
});

async function requestCount(mysqlUrl: string): Promise<number> {
  const db = await mysql.createConnection(mysqlUrl);
  try {
    const [rows] = await db.query('SELECT COUNT(*) AS n FROM requests');
    return Number((rows as Array<{ n: number }>)[0]?.n);
  } finally {
    await db.end();
  }
}

describe('Idempotency-Key with two RMs on one MariaDB', () => {
  it('the same key through RM A then RM B gives the same request; concurrent duplicates store one request', async () => {
    const mysqlUrl = await newMysqlDatabase();
    const jrPort = await freePort();
    const jrUrl = `http://127.0.0.1:${jrPort}`;
    const rmA = await startHaRm({ jrUrl, mysqlUrl });
    const rmB = await startHaRm({ jrUrl, mysqlUrl });
    procs.push(rmA, rmB);
    procs.push(await startHaJr({ rmUrl: `${rmA.url},${rmB.url}`, ledger: newLedger(), port: jrPort }));
    const a = new RmClient({ baseURL: rmA.url, retry: { attempts: 1 } });
    const b = new RmClient({ baseURL: rmB.url, retry: { attempts: 1 } });

    const first = await a.createRequest('ha-nap', { ms: '100' }, { idempotencyKey: 'deploy-42' });
    const again = await b.createRequest('ha-nap', { ms: '100' }, { idempotencyKey: 'deploy-42' });
    expect(again.id).toBe(first.id);
    expect(await requestCount(mysqlUrl)).toBe(1);
    const other = await b
      .createRequest('ha-nap', { ms: '200' }, { idempotencyKey: 'deploy-42' })
      .catch((e) => e);
    expect(other).toBeInstanceOf(ApiError);
    expect((other as ApiError).status).toBe(422);

    // Eight at once through both RMs: each answer is the one request or a 409, and one request is stored.
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? b : a).createRequest('ha-nap', { ms: '100' }, { idempotencyKey: 'burst' }).then(
          (r) => r.id,
          (e: unknown) => (e instanceof ApiError ? e.status : e),
        ),
      ),
    );
    const ids = new Set(outcomes.filter((o) => typeof o === 'string'));
    expect(ids.size).toBe(1);
    for (const o of outcomes) if (typeof o !== 'string') expect(o).toBe(409);
    expect(await requestCount(mysqlUrl)).toBe(2);
  });
});

describe.each(['mysql', 'sqlite'] as const)('explain with a real Job Runner on %s', (db) => {
  it('a job waiting on a sleeping dependency, a retry wait, then a failed request and its errors', async () => {
    const jrPort = await freePort();
    const rm = await startHaRm({ db, jrUrl: `http://127.0.0.1:${jrPort}` });
    procs.push(rm);
    const jr = await startHaJr({ rmUrl: rm.url, ledger: newLedger(), port: jrPort });
    procs.push(jr);
    const c = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });

    const nap = await c.createRequest('ha-nap', { ms: '20000', afterMs: '10' });
    let ex: RequestExplanation | undefined;
    await until('the nap job to run', async () => {
      ex = await c.explainRequest(nap.id);
      return ex.jobs.some((j) => j.name === 'nap' && j.reasons[0]?.kind === 'running');
    });
    const after = ex?.jobs.find((j) => j.name === 'after');
    expect(after?.reasons[0]).toMatchObject({
      kind: 'dependencies',
      jobs: [{ name: 'nap', state: 'PENDING' }],
    });
    expect(ex).toMatchObject({ state: 'RUNNING', final: false });
    await c.stopRequest(nap.id);

    // flaky fails both tries (retry: 1, retryWait: 2s): first it waits between them, then the request FAILs.
    const failing = await c.createRequest('ha-flaky', {});
    await until('the flaky job to wait for its retry', async () => {
      const e = await c.explainRequest(failing.id);
      return e.jobs.some((j) => j.name === 'flaky' && j.reasons[0]?.kind === 'retryWait');
    });
    const waiting = (await c.explainRequest(failing.id)).jobs.find((j) => j.name === 'flaky');
    expect(waiting?.reasons[0]).toMatchObject({ kind: 'retryWait', lastTry: 1, retryWait: '2s' });
    expect(String(waiting?.reasons[0]?.until)).toMatch(/^\d{4}-/);
    const end = await untilFinal(c, failing.id, 30_000);
    expect(end.state).toBe(State.FAIL);
    const final = await c.explainRequest(failing.id);
    expect(final).toMatchObject({ state: 'FAIL', final: true });
    const flaky = final.jobs.find((j) => j.name === 'flaky');
    expect(flaky?.reasons[0]).toMatchObject({ kind: 'failed', try: 2 });
    expect(String(flaky?.reasons[0]?.error)).toContain('fails on purpose');
  });
});
