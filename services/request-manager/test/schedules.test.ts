/**
 * Schedules: each due time is fired by exactly one RM however many tick at
 * once (the `schedule_runs` row), missed runs are skipped or run once after
 * all RMs were down, and GET /api/v1/schedules shows last and next runs.
 * The RMs share an injectable clock; their tickers are driven by hand.
 */
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { ConfigError } from '@spincycle/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSchedules } from '../src/schedules/schedule-config.js';
import { ScheduleStore } from '../src/stores/schedule-store.js';
import { DB_KINDS, newTarget } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, FIXTURES, startTestRm, type TestRm } from './support/rm.js';

const T0 = Date.parse('2030-03-04T05:06:07.500Z');
const sec = (n: number) => new Date(Math.floor(T0 / 1000) * 1000 + n * 1000);

const overrides = {
  'specs.dir': join(FIXTURES, 'operator-specs'),
  'scheduler.interval': '1h',
  'scheduler.grace': '1s',
  schedules: [
    { name: 'skipper', cron: '* * * * * *', timezone: 'Europe/Berlin', type: 'nightly', missed: 'skip' },
    {
      name: 'catch-up',
      cron: '* * * * * *',
      timezone: 'UTC',
      type: 'nightly',
      args: { scope: 'tmp' },
      missed: 'run-once',
    },
  ],
};

describe.each(DB_KINDS)('schedules on %s', (kind) => {
  let jr: FakeJr;
  let db: Awaited<ReturnType<typeof newTarget>>;
  let a: TestRm;
  // Two RMs on MariaDB; on SQLite one RM ticks twice at once (two RMs in one process would
  // block each other's SQLite writes: the driver waits synchronously).
  let b: TestRm;
  let clock = T0;
  const now = () => new Date(clock);
  const startBoth = async () => {
    const start = () => startTestRm({ db: kind, jrUrl: jr.url, overrides, target: db.target, now });
    a = await start();
    b = kind === 'mysql' ? await start() : a;
  };
  const closeBoth = async () => {
    if (b !== a) await b?.close();
    await a?.close();
  };
  const tickBoth = () => Promise.all([a.rm.operator.scheduler.tick(), b.rm.operator.scheduler.tick()]);
  const runs = (name: string) => new ScheduleStore(a.rm.db).runs(name);
  const requestsOf = async (name: string) =>
    (await a.client.findRequests({ user: `schedule:${name}` })).map((r) => r.id).sort();

  beforeAll(async () => {
    jr = await new FakeJr().start();
    db = await newTarget(kind);
    await startBoth();
  });
  afterAll(async () => {
    await closeBoth();
    await db?.cleanup();
    await jr?.close();
  });

  it('two RMs ticking together create exactly one request per due time, as user schedule:<name>', async () => {
    for (const n of [1, 2, 3]) {
      clock = sec(n).getTime() + 100;
      await tickBoth();
    }
    const fired = await runs('skipper');
    expect(fired.map((r) => r.dueAt.toISOString())).toEqual(
      [sec(1), sec(2), sec(3)].map((d) => d.toISOString()),
    );
    expect(fired.every((r) => r.outcome === 'created' && r.requestId)).toBe(true);
    expect(await requestsOf('skipper')).toEqual(fired.map((r) => r.requestId).sort());
    const req = await a.client.getRequest(fired[0]?.requestId as string);
    expect(req).toMatchObject({ type: 'nightly', user: 'schedule:skipper', state: State.RUNNING });
    const catchUp = await a.client.getRequest((await runs('catch-up'))[0]?.requestId as string);
    expect(catchUp.args?.find((x) => x.Name === 'scope')?.Value).toBe('tmp');
  });

  it('GET /api/v1/schedules lists each schedule with its last run, that request and the next run', async () => {
    const res = await call(a.url, 'GET', '/api/v1/schedules');
    expect(res.status).toBe(200);
    const last = (await runs('skipper')).at(-1);
    expect((res.json as unknown[])[0]).toEqual({
      name: 'skipper',
      cron: '* * * * * *',
      timezone: 'Europe/Berlin',
      type: 'nightly',
      missed: 'skip',
      nextRun: sec(4).toISOString(),
      lastRun: {
        dueAt: sec(3).toISOString(),
        outcome: 'created',
        requestId: last?.requestId,
        state: 'RUNNING',
      },
    });
  });

  it('runs missed while every RM was down: skip records one skipped run, run-once fires one; no backlog', async () => {
    await closeBoth();
    clock = sec(60).getTime() + 100;
    await startBoth();
    await tickBoth();
    const skipped = (await runs('skipper')).slice(3);
    // 4…59 are missed (older than the one-second grace), 60 is on time.
    expect(skipped.map((r) => [r.dueAt.toISOString(), r.outcome])).toEqual([
      [sec(59).toISOString(), 'skipped'],
      [sec(60).toISOString(), 'created'],
    ]);
    expect(skipped[0]?.error).toContain('56 run(s)');
    const caught = (await runs('catch-up')).slice(3);
    expect(caught.map((r) => [r.dueAt.toISOString(), r.outcome])).toEqual([
      [sec(59).toISOString(), 'created'],
      [sec(60).toISOString(), 'created'],
    ]);
    expect(await requestsOf('skipper')).toHaveLength(4);
    expect(await requestsOf('catch-up')).toHaveLength(5);
    // Ticking again at the same time fires nothing more.
    await tickBoth();
    expect(await requestsOf('catch-up')).toHaveLength(5);
  });
});

describe('schedules config', () => {
  const isType = (t: string) => t === 'nightly';
  const entry = { name: 'n', cron: '0 3 * * *', timezone: 'Europe/Berlin', type: 'nightly' };

  it('takes a valid entry (missed defaults to skip)', () => {
    const [s] = parseSchedules([entry], isType);
    expect(s).toMatchObject({ name: 'n', missed: 'skip', args: {} });
    expect(s?.pattern.nextRun(new Date('2030-01-01T00:00:00Z'))?.toISOString()).toBe(
      '2030-01-01T02:00:00.000Z',
    );
  });

  it.each([
    [{ ...entry, cron: 'every day' }, "'cron'"],
    [{ ...entry, timezone: 'Mars/Base' }, 'IANA time zone'],
    [{ ...entry, type: 'nope' }, 'not a request type'],
    [{ ...entry, missed: 'all' }, 'skip or run-once'],
    [{ ...entry, when: 'x' }, "unknown key 'when'"],
    [{ ...entry, timezone: undefined }, "'timezone' must be"],
  ])('refuses %j naming the problem', (bad, message) => {
    expect(() => parseSchedules([bad], isType)).toThrow(ConfigError);
    expect(() => parseSchedules([bad], isType)).toThrow(message);
  });

  it('refuses two schedules with one name', () => {
    expect(() => parseSchedules([entry, entry], isType)).toThrow('used by an earlier schedule');
  });
});
