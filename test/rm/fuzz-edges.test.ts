/**
 * Property-based fuzzing of the HTTP edges of one real Request Manager and
 * Job Runner (SQLite): whatever a client sends — arbitrary JSON, wrong types,
 * invalid JSON text, deep nesting, `__proto__`/`constructor` keys, odd
 * Content-Types and methods, garbage ids and query strings — an answer comes
 * (within 5 s) and is never a 5xx, every 4xx carries the standard error body
 * `{"message","requestId","httpStatus"}` with a message and the status, both
 * processes keep answering, a refused create stores nothing, an accepted one
 * keeps its args as sent, and a finish answered 200 did finish the request.
 *
 * The seed is fixed so a failure replays; fast-check prints it with the
 * counterexample. FUZZ_SEED=<n> and FUZZ_RUNS=<n> explore other inputs,
 * FUZZ_STATS=1 prints what the answers were.
 */
import { join } from 'node:path';
import { parseJson, type RequestArg, stringifyJson } from '@spincycle/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, agent, type Call, checkAnswer, describeCall, enc, send } from '../support/fuzz-http.js';
import { REPO_ROOT, type ServiceProcess, type System, startSystem } from '../support/system.js';

const SPECS = join(REPO_ROOT, 'services/request-manager/test/fixtures/specs');
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
// numRuns must be a whole number (a fraction never ends the run).
const params = (numRuns = RUNS) => ({ seed: SEED, numRuns: Math.max(1, Math.round(numRuns)) });

/** FUZZ_STATS=1: answers counted by service, method, route and status, printed at the end (to tune the generators). */
const STATS = process.env.FUZZ_STATS ? new Map<string, number>() : undefined;
afterAll(() => {
  if (STATS)
    console.log(
      [...STATS]
        .sort()
        .map(([k, n]) => `${n}\t${k}`)
        .join('\n'),
    );
});

async function call(svc: ServiceProcess, c: Call): Promise<Answer> {
  const a = await send(svc.url, c);
  if (STATS) {
    const route = c.path.replace(/[?].*/, '?').replace(/(requests|job-chains)\/[^/?]+/, '$1/:id');
    const k = `${svc.name} ${c.method} ${route.slice(0, 60)} ${a.status} ${a.status >= 400 ? a.text.slice(12, 60) : ''}`;
    STATS.set(k, (STATS.get(k) ?? 0) + 1);
  }
  checkAnswer(c, a);
  return a;
}

// ------------------------------------------------------------------ generators

/** `null` three times out of four, else a value of `arb` (fc.option makes the value the common case). */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

/** Strings that tend to break things: controls, lone surrogates, NUL, RTL, long runs, escapes. */
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff\ud800',
    '\u202e\u0000\r\n\t',
    '..',
    '../..',
    '%',
    '%zz',
    '%00',
    '%c0%af',
    '__proto__',
    'constructor',
    'toString',
    '\u0000big:123',
    'NaN',
    '-1',
    '1e400',
    '9007199254740993',
    '2006-01-02T15:04:05Z',
    'é'.repeat(3000),
    'x'.repeat(70_000),
  ),
);

/**
 * Stand-ins for values nested `n` levels deep (`a`rrays or `o`bjects), put into the
 * text by `jsonText`: the test's own JSON writer could not write them.
 */
const deepLeaf = fc
  .tuple(fc.constantFrom(100, 600, 5000, 50_000), fc.constantFrom('a', 'o'))
  .map(([n, kind]) => `\u0001DEEP:${n}:${kind}\u0001`);
const DEEP_RE = /"\\u0001DEEP:(\d+):([ao])\\u0001"/g;

/** JSON values, with the keys and numbers our payloads care about mixed in. */
const jsonLeaf = fc.oneof(
  {
    weight: 40,
    arbitrary: fc.oneof(
      nastyString,
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
      fc.constantFrom(0, -1, 1e308, -0, 2 ** 53, 2 ** 53 + 2, true, false, null),
    ),
  },
  // Rare: one in a body is enough to refuse it whole.
  { weight: 1, arbitrary: deepLeaf },
);
const payloadKey = fc.oneof(
  fc.constantFrom(
    'type',
    'Type',
    'TYPE',
    'args',
    'Args',
    'sleepTime',
    'host',
    'count',
    'env',
    'region',
    'requestId',
    'jobs',
    'state',
    '__proto__',
    'constructor',
    'prototype',
  ),
  fc.string({ maxLength: 8 }),
);
const { json: anyJson } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeaf,
    fc.array(tie('json'), { maxLength: 5 }),
    fc.dictionary(payloadKey, tie('json'), { maxKeys: 5 }),
  ),
}));

/** A JSON value nested `depth` levels deep (arrays or objects). */
const deepJson = fc
  .record({ depth: fc.constantFrom(50, 1000, 5000, 20_000), obj: fc.boolean() })
  .map(({ depth, obj }) =>
    obj ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}1${']'.repeat(depth)}`,
  );

/** JSON text of a value (bigints as integers, `deepLeaf` stand-ins as deep values). */
function jsonText(v: unknown): string {
  return (stringifyJson(v) ?? '').replace(DEEP_RE, (_m, n: string, kind: string) =>
    kind === 'a'
      ? `${'['.repeat(Number(n))}1${']'.repeat(Number(n))}`
      : `${'{"a":'.repeat(Number(n))}1${'}'.repeat(Number(n))}`,
  );
}

/** Bodies that are not valid JSON, or JSON with duplicate keys. */
const badJsonText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom(
    '{',
    '}',
    '[',
    '{"type":',
    '{"type":"test",}',
    "{'type':'test'}",
    '{"type":"test"}{"type":"test"}',
    'NaN',
    'Infinity',
    '-',
    '1e99999',
    '"\\ud800"',
    '"\\u00"',
    '{"type":"test","args":{"sleepTime":"1"},"type":5}',
    '{"type":"test","type":"with-args"}',
    '{"args":{"a":1},"args":[1]}',
    '{"__proto__":{"type":"test"}}',
    '{"type":"test","args":{"__proto__":{"sleepTime":"1"}}}',
    '\ufeff{"type":"nope"}',
    '\u0000',
    'null',
    'true',
    '12345678901234567890',
    '[12345678901234567890]',
  ),
  // Valid JSON text cut short.
  fc.tuple(anyJson.map(jsonText), fc.nat()).map(([t, n]) => t.slice(0, t.length > 1 ? n % t.length : 0)),
);

/** Any body: JSON of any shape, bad text, huge, deep, empty. */
const anyBodyText = fc.oneof(
  { weight: 4, arbitrary: anyJson.map(jsonText) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3, withBigInt: true }).map(jsonText) },
  { weight: 2, arbitrary: badJsonText },
  { weight: 1, arbitrary: deepJson },
  { weight: 1, arbitrary: fc.constant('') },
);

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom<string | null>(
      null,
      '',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/merge-patch+json',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json; charset=bogus-42',
      'application/json; charset=',
      'application/jsonx',
      'json',
      '*/*',
    ),
  },
);

/** Occasional odd transfer headers on top of the body. */
const extraHeaders = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Record<string, string>>({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string>>(
      { 'Content-Encoding': 'gzip' },
      { 'Content-Encoding': 'deflate' },
      { 'Content-Encoding': 'br' },
      { 'Content-Encoding': 'bogus' },
      { 'Content-Encoding': 'identity' },
    ),
  },
);

/** A body with its headers; `undefined` text: no body at all. */
const bodyCall = fc.record({
  body: fc.option(anyBodyText, { nil: undefined, freq: 10 }),
  contentType,
  headers: extraHeaders,
});

/** Create bodies shaped like a CreateRequest with wrong types in the fields. */
const createShaped = fc
  .record(
    {
      typeKey: fc.constantFrom('type', 'Type', 'TYPE', 'tYpE'),
      type: fc.oneof(fc.constantFrom('test', 'with-args', 'no-args', 'nope', ''), anyJson),
      argsKey: fc.constantFrom('args', 'Args', 'ARGS'),
      args: fc.oneof(
        fc.dictionary(payloadKey, anyJson, { maxKeys: 6 }),
        fc.record(
          {
            sleepTime: anyJson,
            host: anyJson,
            count: anyJson,
            env: anyJson,
            region: anyJson,
          },
          { requiredKeys: [] },
        ),
        anyJson,
      ),
    },
    { requiredKeys: ['typeKey', 'argsKey'] },
  )
  .map(({ typeKey, type, argsKey, args }) => {
    const o: Record<string, unknown> = {};
    if (type !== undefined) o[typeKey] = type;
    if (args !== undefined) o[argsKey] = args;
    return jsonText(o);
  });

/** Creates of the fixture requests with every arg declared, each set to an odd value (they reach the chain builder). */
const argValue = fc.oneof(
  nastyString,
  fc.constantFrom(
    '0',
    '1',
    '10',
    '1.5',
    '1e3',
    '-5',
    '99999999999999999999999',
    '1ms',
    '0x10',
    '\u0000big:1',
  ),
  fc.integer({ min: -5, max: 20 }),
  fc.bigInt({ min: 2n ** 60n, max: 2n ** 70n }),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean()), { maxLength: 3 }),
  anyJson,
);
const createValid = fc
  .oneof(
    fc.record({ type: fc.constant('test'), args: fc.record({ sleepTime: argValue }, { requiredKeys: [] }) }),
    fc.record({
      type: fc.constant('with-args'),
      args: fc.record(
        { host: argValue, count: argValue, env: argValue },
        { requiredKeys: ['host', 'count'] },
      ),
    }),
    fc.record({ type: fc.constant('no-args'), args: fc.option(fc.constant({}), { nil: undefined }) }),
  )
  .map(jsonText);

/** Path segments: real-looking ids, garbage escapes, dots, unicode, very long. */
const idSegment = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{20}$/),
  fc.string({ unit: 'binary', maxLength: 30 }).map(enc),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.stringMatching(/^[%a-zA-Z0-9.~!$&'()*+,;=:@-]{1,30}$/),
  fc.constantFrom(
    '.',
    '..',
    '%2e%2e',
    '%2F',
    '%00',
    '%',
    '%zz',
    '%E0%A4%A',
    '%C0%AF',
    '%ED%A0%80',
    'a%2Fb',
    '%20',
    '~',
    'a'.repeat(300),
    'b'.repeat(8_000),
    'c'.repeat(20_000),
  ),
);

// ------------------------------------------------------------------ the system

/** The args of a create body as the RM reads them (keys case-insensitive, the last one wins). */
function sentArgs(text: string): Record<string, unknown> {
  let args: unknown;
  for (const [k, v] of Object.entries(parseJson(text) as Record<string, unknown>))
    if (k.toLowerCase() === 'args') args = v;
  return (args ?? {}) as Record<string, unknown>;
}

let sys: System;
/** Ids of the requests the RM holds (all created by the fuzzer's accepted creates). */
const known = new Set<string>();

async function storedIds(): Promise<string[]> {
  const a = await call(sys.rm, { method: 'GET', path: '/api/v1/requests' });
  expect(a.status).toBe(200);
  return (JSON.parse(a.text) as Array<{ id: string }>).map((r) => r.id);
}

async function bothAlive(): Promise<void> {
  for (const svc of [sys.rm, sys.jr]) {
    expect(svc.proc.exitCode, `${svc.name} exited:\n${svc.log.slice(-3000)}`).toBeNull();
    const a = await send(svc.url, { method: 'GET', path: '/version' });
    expect(a.status, `${svc.name} /version`).toBe(200);
  }
}

describe('fuzzing the RM and JR HTTP edges (SQLite)', () => {
  beforeAll(async () => {
    sys = await startSystem({ db: 'sqlite', specsDir: SPECS });
    for (const id of await storedIds()) known.add(id);
  });
  afterAll(async () => {
    // Accepted creates may still sleep: stop them so the JR shuts down at once.
    if (sys)
      for (const id of known) await send(sys.rm.url, { method: 'PUT', path: `/api/v1/requests/${id}/stop` });
    agent.destroy();
    await sys?.stop();
  });

  it('POST /api/v1/requests: any body is 201 or a 4xx, and a refused one stores nothing', async () => {
    const body = fc.oneof(
      { weight: 3, arbitrary: createShaped },
      { weight: 2, arbitrary: createValid },
      { weight: 3, arbitrary: anyBodyText },
      { weight: 1, arbitrary: badJsonText },
    );
    const c = fc.record({
      body: fc.option(body, { nil: undefined, freq: 12 }),
      contentType,
      headers: extraHeaders,
    });
    await fc.assert(
      fc.asyncProperty(c, async ({ body, contentType, headers }) => {
        const req: Call = { method: 'POST', path: '/api/v1/requests', body, contentType, headers };
        const a = await call(sys.rm, req);
        const ids = await storedIds();
        if (a.status === 201) {
          const id = (JSON.parse(a.text) as { id: string }).id;
          known.add(id);
          expect(ids).toContain(id);
          // Every given arg comes back as sent, in the answer and when read again (the body is sent as
          // UTF-8, so one declared in another charset was read, rightly, as something else).
          if (/charset=(?!utf-?8)/i.test(contentType ?? '')) return;
          const sent = sentArgs(body as string);
          const got = await call(sys.rm, { method: 'GET', path: `/api/v1/requests/${id}` });
          for (const text of [a.text, got.text]) {
            for (const arg of (parseJson(text) as { args: RequestArg[] }).args) {
              if (!arg.Given) continue;
              if (stringifyJson(arg.Value) !== stringifyJson(sent[arg.Name]))
                throw new Error(
                  `arg ${arg.Name} came back as ${stringifyJson(arg.Value)}: ${describeCall(req)}`,
                );
            }
          }
        }
        const extra = ids.filter((id) => !known.has(id));
        if (extra.length > 0)
          throw new Error(`refused (${a.status}) but stored ${extra.join(', ')}: ${describeCall(req)}`);
      }),
      params(),
    );
    await bothAlive();
  });

  it('GET /api/v1/requests: any query string is 200 or a 400', async () => {
    const value = fc.oneof(
      nastyString.map(enc),
      fc.stringMatching(/^[%a-zA-Z0-9=,:.+-]{0,20}$/),
      fc.constantFrom(
        'RUNNING',
        'running',
        'COMPLETE,FAIL',
        'NOPE',
        ',',
        'sleepTime=1',
        'sleepTime',
        '=x',
        '2006-01-02T15:04:05Z',
        '2006-13-45T99:99:99Z',
        '0001-01-01T00:00:00Z',
        '9999-12-31T23:59:59.999999999+14:00',
        '-1',
        '0',
        '1e3',
        '0x10',
        '99999999999999999999',
        '9007199254740991',
        ' 1',
        '+1',
      ),
    );
    const key = fc.oneof(
      fc.constantFrom('type', 'user', 'state', 'arg', 'since', 'until', 'limit', 'offset'),
      fc.constantFrom('Type', 'arg[]', 'limit[]', 'state[0]', '__proto__', ''),
      nastyString.map(enc),
    );
    const part = fc.oneof(
      fc.tuple(key, value).map(([k, v]) => `${k}=${v}`),
      key,
      fc.constantFrom('&', '=', '==', '%', 'arg', 'arg=', 'arg==', 'limit', 'since='),
    );
    const query = fc.array(part, { maxLength: 8 }).map((parts) => parts.join('&'));
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        await call(sys.rm, { method: 'GET', path: `/api/v1/requests?${q}` });
      }),
      params(),
    );
    await bothAlive();
  });

  it('/api/v1/requests/{id}/…: any id, any method, is answered without a 5xx', async () => {
    const route = fc.constantFrom(
      ['GET', ''],
      ['GET', '/job-chain'],
      ['GET', '/log'],
      ['GET', '/log/:job'],
      ['PUT', '/start'],
      ['PUT', '/stop'],
      ['DELETE', ''],
      ['POST', '/stop'],
      ['PATCH', '/log'],
      ['GET', '/status'],
      ['GET', '/log/:job/extra'],
      ['OPTIONS', ''],
      ['TRACE', '/stop'],
      ['PROPFIND', ''],
      ['CONNECT', ''],
    );
    const c = fc.record({ id: idSegment, job: idSegment, route, body: fc.option(anyBodyText, { freq: 3 }) });
    await fc.assert(
      fc.asyncProperty(c, async ({ id, job, route: [method, suffix], body }) => {
        const path = `/api/v1/requests/${id}${(suffix as string).replace(':job', job)}`;
        await call(sys.rm, { method: method as string, path, body: body ?? undefined });
      }),
      params(),
    );
    await fc.assert(
      fc.asyncProperty(idSegment, async (id) => {
        await call(sys.rm, { method: 'GET', path: `/api/v1/status/running?requestId=${id}` });
      }),
      params(RUNS / 4),
    );
    await bothAlive();
  });

  it('the internal endpoints the JRs call take any body without a 5xx', async () => {
    const target = fc.oneof(
      fc.constant(['POST', '/api/v1/job-logs']),
      fc.constant(['POST', '/api/v1/internal/reports']),
      fc.constant(['PUT', '/api/v1/job-runners/heartbeat']),
      fc
        .tuple(
          fc.constantFrom('finish', 'progress', 'suspend', 'log'),
          fc.oneof(idSegment, fc.constantFrom(...[...known].slice(0, 3), 'x')),
        )
        .map(([what, id]) => [what === 'log' ? 'POST' : 'PUT', `/api/v1/requests/${id}/${what}`]),
    );
    // Internal payloads with the right envelope and wrong contents.
    const reqId = fc.oneof(fc.constantFrom(...[...known].slice(0, 3), 'x', ''), nastyString);
    const nanos = fc.oneof(
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
      fc.integer(),
      fc.constantFrom('123', '-5', 'abc', 1.5, null),
    );
    const jobLog = fc.record(
      {
        requestId: reqId,
        jobId: fc.oneof(nastyString, anyJson),
        try: fc.oneof(fc.nat(), anyJson),
        name: fc.oneof(nastyString, anyJson),
        type: fc.oneof(nastyString, anyJson),
        startedAt: nanos,
        finishedAt: nanos,
        state: fc.oneof(fc.integer({ min: -1, max: 9 }), anyJson),
        exit: fc.oneof(fc.integer(), anyJson),
        error: nastyString,
        stdout: nastyString,
        stderr: nastyString,
      },
      { requiredKeys: [] },
    );
    const finish = fc.record(
      {
        requestId: reqId,
        state: fc.oneof(fc.constantFrom(3, 4, 6), anyJson),
        finishedAt: fc.oneof(fc.constantFrom('2006-01-02T15:04:05Z', '2006-13-02T15:04:05Z'), anyJson),
        finishedJobs: fc.oneof(fc.nat(), anyJson, fc.constant(1e300)),
      },
      { requiredKeys: [] },
    );
    const progress = fc.record({ requestId: reqId, finishedJobs: fc.oneof(fc.nat(), anyJson) });
    const heartbeat = fc.record(
      {
        jrURL: fc.oneof(fc.constantFrom('http://fuzz.invalid:1', 'https://', 'ftp://x'), anyJson),
        instance: anyJson,
        startedAt: fc.oneof(fc.constantFrom('2006-01-02T15:04:05Z', 'yesterday'), anyJson),
        draining: anyJson,
        requests: fc.oneof(
          fc.array(
            fc.record(
              {
                requestId: reqId,
                jobs: fc.oneof(fc.array(fc.record({ jobId: anyJson, try: anyJson })), anyJson),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 3 },
          ),
          anyJson,
        ),
      },
      { requiredKeys: [] },
    );
    const shaped = fc.oneof(
      fc.array(jobLog, { maxLength: 4 }),
      jobLog,
      finish,
      progress,
      heartbeat,
      fc.record(
        {
          logs: fc.oneof(fc.array(jobLog, { maxLength: 3 }), anyJson),
          progress: fc.oneof(fc.array(progress, { maxLength: 3 }), anyJson),
          finishes: fc.oneof(fc.array(finish, { maxLength: 3 }), anyJson),
        },
        { requiredKeys: [] },
      ),
    );
    const c = fc.record({
      target,
      body: fc.oneof({ weight: 3, arbitrary: shaped.map(jsonText) }, { weight: 2, arbitrary: anyBodyText }),
      contentType,
    });
    await fc.assert(
      fc.asyncProperty(c, async ({ target: [method, path], body, contentType }) => {
        await call(sys.rm, { method: method as string, path: path as string, body, contentType });
      }),
      params(RUNS * 2),
    );
    await bothAlive();
  });

  it('the JR callbacks of requests that really run take their real chain with one part wrong without a 5xx', async () => {
    // Requests that sleep long enough to stay RUNNING while the callbacks arrive.
    const running: Array<{ id: string; chain: { jobs: Record<string, Record<string, unknown>> } }> = [];
    for (let i = 0; i < 3; i++) {
      const body = '{"type":"test","args":{"sleepTime":"60000"}}';
      const created = await call(sys.rm, { method: 'POST', path: '/api/v1/requests', body });
      expect(created.status).toBe(201);
      const id = (JSON.parse(created.text) as { id: string }).id;
      known.add(id);
      const chain = await call(sys.rm, { method: 'GET', path: `/api/v1/requests/${id}/job-chain` });
      running.push({ id, chain: JSON.parse(chain.text) });
    }
    const part = fc.constantFrom(
      'data',
      'args',
      'name',
      'type',
      'state',
      'retry',
      'sequenceId',
      'bytes',
      'extra',
      'constructor',
      '__proto__',
    );
    const c = fc.record({
      which: fc.nat(running.length - 1),
      what: fc.constantFrom('suspend', 'finish', 'progress', 'log'),
      part,
      value: fc.oneof(anyJson, fc.constantFrom(null, {}, 1)),
      where: fc.constantFrom('job', 'chain', 'envelope'),
    });
    await fc.assert(
      fc.asyncProperty(c, async ({ which, what, part, value, where }) => {
        const { id, chain } = running[which] as (typeof running)[number];
        const jobs = structuredClone(chain.jobs);
        const [jobId] = Object.keys(jobs);
        const jobChain: Record<string, unknown> = { ...chain, jobs };
        const sjc: Record<string, unknown> = {
          requestId: id,
          jobChain,
          totalJobTries: {},
          latestRunJobTries: {},
          sequenceTries: {},
        };
        // Defined, not assigned: a `__proto__` part is then a key like any other, as JSON.parse makes it.
        const target =
          where === 'job' ? (jobs[jobId as string] as object) : where === 'chain' ? jobChain : sjc;
        Object.defineProperty(target, part, { value, enumerable: true, writable: true, configurable: true });
        const body =
          what === 'suspend'
            ? sjc
            : what === 'finish'
              ? {
                  requestId: id,
                  state: 3,
                  finishedAt: '2030-01-02T03:04:05Z',
                  finishedJobs: 1,
                  [part]: value,
                }
              : what === 'progress'
                ? { requestId: id, finishedJobs: 1, [part]: value }
                : {
                    jobId,
                    try: 1,
                    name: 'n',
                    type: 'sleep',
                    startedAt: 1,
                    finishedAt: 2,
                    state: 3,
                    [part]: value,
                  };
        const a = await call(sys.rm, {
          method: what === 'log' ? 'POST' : 'PUT',
          path: `/api/v1/requests/${id}/${what}`,
          body: jsonText(body),
        });
        // A finish that was taken finished the request (not a 200 for a body whose checks were skipped).
        if (what === 'finish' && a.status === 200) {
          const req = JSON.parse(
            (await call(sys.rm, { method: 'GET', path: `/api/v1/requests/${id}` })).text,
          );
          if (![3, 4, 6].includes(req.state))
            throw new Error(
              `finish answered 200 but the request is in state ${req.state}: ${jsonText(body)}`,
            );
        }
      }),
      params(),
    );
    await bothAlive();
  });

  it("the JR's own API takes any body without a 5xx", async () => {
    const jobId = fc.oneof(fc.constantFrom('a', 'b', 'c', '__proto__', 'constructor', ''), nastyString);
    const job = fc.record(
      {
        id: fc.oneof(jobId, anyJson),
        name: fc.oneof(nastyString, anyJson),
        // Never a job that runs anything on this machine: noop or types no factory has.
        type: fc.oneof(fc.constantFrom('noop', 'no-such-type', ''), anyJson),
        bytes: fc.oneof(nastyString, anyJson),
        state: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 2 ** 53), anyJson),
        args: anyJson,
        data: anyJson,
        retry: fc.oneof(
          fc.nat(5),
          fc.constantFrom(-1, 1e300, 2 ** 53),
          fc.bigInt({ min: 2n ** 64n, max: 2n ** 70n }),
        ),
        retryWait: fc.oneof(fc.constantFrom('1ms', '-5s', 'soon', '9999999999h', ''), anyJson),
        sequenceId: fc.oneof(jobId, anyJson),
        sequenceRetry: fc.oneof(fc.nat(5), anyJson, fc.bigInt({ min: 2n ** 64n, max: 2n ** 70n })),
        sequenceRetryWait: fc.oneof(fc.constantFrom('1ms', '1h', 'x'), anyJson),
      },
      { requiredKeys: [] },
    );
    // Jobs keyed by their ids (mostly), so the graph checks are reached; edges may form cycles or name missing jobs.
    const toJobs = (list: Array<Record<string, unknown>>) => {
      // No prototype, so a `__proto__` job id is a key like any other.
      const jobs: Record<string, unknown> = Object.create(null);
      for (const j of list) jobs[typeof j.id === 'string' ? j.id : String(Object.keys(jobs).length)] = j;
      return jobs;
    };
    const wild = fc.record(
      {
        requestId: fc.oneof(fc.stringMatching(/^fuzz[a-z0-9]{8}$/), nastyString, anyJson),
        jobs: fc.oneof(fc.array(job, { maxLength: 4 }).map(toJobs), anyJson),
        adjacencyList: fc.oneof(
          fc.dictionary(jobId, fc.oneof(fc.array(jobId, { maxLength: 3 }), anyJson)),
          anyJson,
        ),
        state: fc.oneof(fc.constantFrom(0, 1, 2, 3), anyJson),
        finishedJobs: fc.oneof(
          fc.constantFrom(0, 1, -1, 2 ** 60),
          anyJson,
          fc.bigInt({ min: 2n ** 64n, max: 2n ** 70n }),
        ),
      },
      { requiredKeys: [] },
    );
    // Well-formed chains of noop jobs (a line, maybe a back edge or a missing job) with at most one bad field:
    // these get past the field checks to the graph, state and traversal code.
    const wellFormed = fc
      .record({
        requestId: fc.stringMatching(/^fuzz[a-z0-9]{8}$/),
        ids: fc.uniqueArray(fc.oneof(fc.stringMatching(/^[a-z]{1,3}$/), jobId), {
          minLength: 1,
          maxLength: 5,
        }),
        states: rarely(fc.array(fc.constantFrom(1, 3, 6, 4), { maxLength: 5 })),
        backEdge: rarely(fc.tuple(fc.nat(), fc.nat())),
        missing: rarely(jobId),
        broken: rarely(
          fc.tuple(
            fc.nat(),
            fc.constantFrom(
              'id',
              'name',
              'type',
              'state',
              'retry',
              'retryWait',
              'sequenceId',
              'args',
              'data',
              'bytes',
            ),
            anyJson,
          ),
        ),
        finishedJobs: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.nat(6), anyJson),
      })
      .map(({ requestId, ids, states, backEdge, missing, broken, finishedJobs }) => {
        const list = ids.map((id, i) => ({
          id,
          name: `job ${i}`,
          type: 'noop',
          state: states?.[i] ?? 1,
          retry: 0,
          sequenceId: ids[0],
          sequenceRetry: 0,
        })) as Array<Record<string, unknown>>;
        if (broken) {
          const [i, field, value] = broken;
          (list[i % list.length] as Record<string, unknown>)[field] = value;
        }
        const adjacencyList: Record<string, string[]> = Object.create(null);
        for (let i = 0; i + 1 < ids.length; i++) adjacencyList[ids[i] as string] = [ids[i + 1] as string];
        if (backEdge) {
          const from = ids[backEdge[0] % ids.length] as string;
          adjacencyList[from] = [...(adjacencyList[from] ?? []), ids[backEdge[1] % ids.length] as string];
        }
        if (missing !== null)
          adjacencyList[ids[0] as string] = [...(adjacencyList[ids[0] as string] ?? []), missing];
        return { requestId, jobs: toJobs(list), adjacencyList, state: 1, finishedJobs };
      });
    const chain = fc.oneof(wild, wellFormed);
    const counters = fc.oneof(
      { weight: 3, arbitrary: fc.dictionary(jobId, fc.nat(5), { maxKeys: 3 }) },
      { weight: 1, arbitrary: fc.oneof(fc.dictionary(jobId, anyJson), anyJson) },
    );
    const sjc = fc
      .record(
        {
          requestId: fc.oneof(fc.stringMatching(/^fuzz[a-z0-9]{8}$/), anyJson),
          jobChain: fc.oneof({ weight: 4, arbitrary: wellFormed }, { weight: 1, arbitrary: wild }, anyJson),
          totalJobTries: counters,
          latestRunJobTries: counters,
          sequenceTries: counters,
        },
        { requiredKeys: ['jobChain'] },
      )
      .chain((s) =>
        // Mostly the chain's own request id, so the checks past the envelope are reached.
        fc.boolean().map((same) => {
          const inner = (s.jobChain as { requestId?: unknown } | null)?.requestId;
          return same && inner !== undefined ? { ...s, requestId: inner } : s;
        }),
      );
    const c = fc.oneof(
      fc.record({
        method: fc.constant('POST'),
        path: fc.constant('/api/v1/job-chains'),
        body: fc.oneof({ weight: 3, arbitrary: chain.map(jsonText) }, { weight: 1, arbitrary: anyBodyText }),
        contentType,
      }),
      fc.record({
        method: fc.constant('POST'),
        path: fc.constant('/api/v1/job-chains/resume'),
        body: fc.oneof({ weight: 3, arbitrary: sjc.map(jsonText) }, { weight: 1, arbitrary: anyBodyText }),
        contentType,
      }),
      fc.record({
        method: fc.constantFrom('PUT', 'GET', 'POST', 'DELETE', 'CONNECT'),
        path: idSegment.map((id) => `/api/v1/job-chains/${id}/stop`),
        body: fc.option(anyBodyText, { nil: undefined }),
        contentType,
      }),
      fc.record({
        method: fc.constant('GET'),
        path: idSegment.map((id) => `/api/v1/status/running?requestId=${id}`),
        contentType: fc.constant(null),
      }),
    );
    await fc.assert(
      fc.asyncProperty(c, async (req) => {
        await call(sys.jr, req as Call);
      }),
      params(RUNS * 2),
    );
    await bothAlive();
  });

  it('bodies with odd headers on every body-taking route', async () => {
    const route = fc.constantFrom(
      ['POST', '/api/v1/requests'],
      ['POST', '/api/v1/job-logs'],
      ['POST', '/api/v1/internal/reports'],
      ['PUT', '/api/v1/job-runners/heartbeat'],
    );
    await fc.assert(
      fc.asyncProperty(route, bodyCall, async ([method, path], b) => {
        await call(sys.rm, { method: method as string, path: path as string, ...b });
      }),
      params(RUNS / 2),
    );
    await fc.assert(
      fc.asyncProperty(bodyCall, async (b) => {
        await call(sys.jr, { method: 'POST', path: '/api/v1/job-chains', ...b });
      }),
      params(RUNS / 2),
    );
    await bothAlive();
  });
});
