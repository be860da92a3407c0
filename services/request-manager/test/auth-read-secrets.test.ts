/**
 * Who may read and stop what, and secret args, over real HTTP with an
 * in-process RM in strict mode (static tokens), on SQLite and MariaDB, with a
 * fake JR: `read` for GET, job chain and job logs (owner, admin, ACL),
 * find filtered to readable requests, owner-aware stop; secret args redacted
 * in every answer, left out of find, masked in stored job-log entries, kept
 * real in the chain sent to the JR.
 */
import { join } from 'node:path';
import { type JobChain, type JobLog, type Request, type RequestSpec, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretMasker } from '../src/secret-masker.js';
import { as, authFiles, jrCreds } from './support/auth.js';
import { DB_KINDS } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, FIXTURES, startTestRm, type TestRm } from './support/rm.js';

const USERS: Record<string, string[]> = {
  root: ['sre'], // auth.admin_roles
  dep: ['deployer'], // deploy: start, stop; vault: start, stop
  dep2: ['deployer'],
  starter: ['starter'], // deploy: start only
  reader: ['reader'], // vault: read
  dev: ['dev'], // nothing
};
const PASSWORD = 'pa$$-"quoted"-9f3k2';
const PIN = 'pin-default-4711';

describe.each(DB_KINDS)('read ACL, owner stop and secret args on %s', (kind) => {
  let jr: FakeJr;
  let t: TestRm;
  const create = async (user: string, type: string, args: Record<string, unknown>) => {
    const res = await call(t.url, 'POST', '/api/v1/requests', { type, args }, as(user));
    if (res.status !== 201) throw new Error(`create: ${res.status} ${res.text}`);
    return res.json as Request;
  };
  const get = (user: string, path: string) => call(t.url, 'GET', path, undefined, as(user));
  const entry = (id: string, jobId: string, text: string): JobLog => ({
    requestId: id,
    jobId,
    try: 1,
    name: 'set',
    type: 'shell-command',
    startedAt: 1n,
    finishedAt: 2n,
    state: State.FAIL,
    exit: 1,
    error: `exit 1: ${text}`,
    stdout: `${text}\n`,
    stderr: `the pin is ${PIN}`,
  });

  beforeAll(async () => {
    jr = await new FakeJr().start();
    jrCreds['X-Spincycle-Job-Runner'] = jr.url;
    const files = authFiles(USERS);
    t = await startTestRm({
      db: kind,
      jrUrl: jr.url,
      overrides: {
        'specs.dir': join(FIXTURES, 'acl-specs'),
        'auth.tokens_file': files.tokens,
        'auth.internal_token_file': files.internal,
        'auth.admin_roles': ['sre'],
        'auth.strict': true,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await jr?.close();
  });

  it('reading args, job chain and job logs: owner, admin and an ACL granting read; others 401', async () => {
    const id = (await create('dep', 'vault', { tool: '/bin/echo', password: PASSWORD })).id;
    const jobId = Object.keys(jr.chains.get(id)?.jobs ?? {})[0] as string;
    expect(
      (await call(t.url, 'POST', `/api/v1/requests/${id}/log`, entry(id, jobId, 'x'), jrCreds)).status,
    ).toBe(201);
    const paths = [
      `/api/v1/requests/${id}`,
      `/api/v1/requests/${id}/job-chain`,
      `/api/v1/requests/${id}/log`,
      `/api/v1/requests/${id}/log/${jobId}`,
    ];
    for (const path of paths) {
      for (const user of ['dep', 'root', 'reader'])
        expect([path, user, (await get(user, path)).status]).toEqual([path, user, 200]);
      // dep2 may start and stop vault requests, but not read those of others.
      const denied = await get('dep2', path);
      expect([path, denied.status, (denied.json as { message: string }).message]).toEqual([
        path,
        401,
        'denied: no matching caller role granted read op for request vault',
      ]);
      expect((await get('dev', path)).status).toBe(401);
    }
    // Unknown requests stay 404.
    expect((await get('dev', '/api/v1/requests/nope/log')).status).toBe(404);
  });

  it('strict: a type without ACLs is read by its owner and admins only', async () => {
    const id = (await create('root', 'open', {})).id;
    expect((await get('dev', `/api/v1/requests/${id}`)).json).toMatchObject({
      message: 'denied: request open has no ACLs and strict auth is enabled',
    });
    expect((await get('root', `/api/v1/requests/${id}`)).status).toBe(200);
  });

  it('find answers only requests the caller may read, filtered in SQL', async () => {
    const mine = (await create('dep2', 'deploy', { app: 'mine' })).id;
    const other = (await create('dep', 'vault', { tool: '/bin/echo', password: PASSWORD })).id;
    const ids = async (user: string) =>
      ((await get(user, '/api/v1/requests?limit=0')).json as Request[]).map((r) => r.id);
    expect(await ids('dep2')).toContain(mine);
    expect(await ids('dep2')).not.toContain(other);
    expect(new Set(((await get('dep2', '/api/v1/requests')).json as Request[]).map((r) => r.user))).toEqual(
      new Set(['dep2']),
    );
    // reader: every vault request, no deploy request it did not create.
    const seen = (await get('reader', '/api/v1/requests?limit=0')).json as Request[];
    expect(seen.map((r) => r.id)).toContain(other);
    expect(new Set(seen.map((r) => r.type))).toEqual(new Set(['vault']));
    expect(await ids('root')).toEqual(expect.arrayContaining([mine, other]));
    expect(await ids('dev')).toEqual([]);
  });

  it('stop: the owner may stop without a stop grant; another caller with the same roles may not', async () => {
    const id = (await create('starter', 'deploy', { app: 'a' })).id;
    const other = (await create('dep', 'deploy', { app: 'b' })).id;
    const denied = await call(t.url, 'PUT', `/api/v1/requests/${other}/stop`, undefined, as('starter'));
    expect([denied.status, (denied.json as { message: string }).message]).toEqual([
      401,
      'denied: no matching caller role granted stop op for request deploy',
    ]);
    expect((await call(t.url, 'PUT', `/api/v1/requests/${id}/stop`, undefined, as('starter'))).status).toBe(
      200,
    );
    expect(jr.stops).toContain(id);
    expect(jr.stops).not.toContain(other);
  });

  it('secret args: redacted in create, GET, job chain and the request list; real in the chain sent to the JR; not findable', async () => {
    const created = await create('dep', 'vault', { tool: '/bin/echo', password: PASSWORD });
    const id = created.id;
    const redacted = [
      ['tool', '/bin/echo', null],
      ['password', '[redacted]', null],
      ['pin', '[redacted]', '[redacted]'],
    ];
    expect(created.args?.map((a) => [a.Name, a.Value, a.Default])).toEqual(redacted);
    const got = await get('dep', `/api/v1/requests/${id}`);
    expect(got.status).toBe(200);
    expect((got.json as Request).args?.map((a) => [a.Name, a.Value, a.Default])).toEqual(redacted);
    const chain = await get('reader', `/api/v1/requests/${id}/job-chain`);
    for (const text of [got.text, chain.text, JSON.stringify(created)]) {
      expect(text).not.toContain('9f3k2');
      expect(text).not.toContain(PIN);
    }
    const job = Object.values((chain.json as JobChain).jobs).find((j) => j.name === 'set');
    expect(job?.args).toMatchObject({ cmd: '/bin/echo', args: '[redacted]' });
    // Its bytes hold the password JSON-escaped (it has quotes): redacted whole.
    expect(job?.bytes).toBe('[redacted]');
    expect(JSON.stringify((got.json as Request).JobChain)).toBe(JSON.stringify(chain.json));
    // The JR gets the real value: the job needs it.
    const sent = Object.values(jr.chains.get(id)?.jobs ?? {}).find((j) => j.name === 'set');
    expect(sent?.args).toMatchObject({ args: PASSWORD });
    // The request list flags the arg and hides its default.
    const list = (await get('dev', '/api/v1/request-list')).json as RequestSpec[];
    const vault = list.find((s) => s.Name === 'vault');
    expect(vault?.Args.map((a) => [a.Name, a.Default, a.Secret])).toEqual([
      ['tool', null, undefined],
      ['password', null, true],
      ['pin', '[redacted]', true],
    ]);
    // Find cannot be used to probe a secret; other args still match.
    const probe = `/api/v1/requests?type=vault&arg=${encodeURIComponent(`password=${PASSWORD}`)}`;
    expect((await get('root', probe)).json).toEqual([]);
    expect(
      ((await get('root', '/api/v1/requests?type=vault&arg=tool=/bin/echo')).json as Request[]).map(
        (r) => r.id,
      ),
    ).toContain(id);
    // Which args are secret is stored with the request.
    const [row] = (await t.rm.db.ds.query(
      `SELECT secret_args FROM request_archives WHERE request_id = '${id}'`,
    )) as Array<{ secret_args: string }>;
    expect(JSON.parse(row?.secret_args ?? 'null')).toEqual(['password', 'pin']);
  });

  it('secret args: a plan (dryRun) is redacted as a stored request is (args, job args, and bytes holding a secret)', async () => {
    const body = { type: 'vault', args: { tool: '/bin/echo', password: PASSWORD } };
    const res = await call(t.url, 'POST', '/api/v1/requests?dryRun=true', body, as('dep'));
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('9f3k2');
    expect(res.text).not.toContain(PIN);
    const plan = res.json as Request & { JobChain: JobChain };
    expect(plan.args?.map((a) => [a.Name, a.Value, a.Default])).toEqual([
      ['tool', '/bin/echo', null],
      ['password', '[redacted]', null],
      ['pin', '[redacted]', '[redacted]'],
    ]);
    expect(plan.JobChain.requestId).toBe('');
    const job = Object.values(plan.JobChain.jobs).find((j) => j.name === 'set');
    expect(job?.args).toMatchObject({ cmd: '/bin/echo', args: '[redacted]' });
    // The shell-command job's bytes hold its args, the password with them.
    expect(job?.bytes).toBe('[redacted]');
  });

  it('secret args: job-log entries are masked as they arrive (per entry, batch and report), so every read shows [redacted]', async () => {
    const id = (await create('dep', 'vault', { tool: '/bin/echo', password: PASSWORD })).id;
    const report = { logs: [entry(id, 'j2', `batch ${PASSWORD}`)], progress: [], finishes: [] };
    expect(
      (await call(t.url, 'POST', `/api/v1/requests/${id}/log`, entry(id, 'j1', `echo ${PASSWORD}`), jrCreds))
        .json,
    ).toMatchObject({
      stdout: 'echo [redacted]\n',
    });
    expect((await call(t.url, 'POST', '/api/v1/internal/reports', report, jrCreds)).status).toBe(200);
    expect((await call(t.url, 'POST', '/api/v1/job-logs', [entry(id, 'j3', PASSWORD)], jrCreds)).status).toBe(
      201,
    );
    const logs = (await get('dep', `/api/v1/requests/${id}/log`)).json as JobLog[];
    expect(logs.map((l) => [l.jobId, l.stdout, l.stderr, l.error])).toEqual([
      ['j1', 'echo [redacted]\n', 'the pin is [redacted]', 'exit 1: echo [redacted]'],
      ['j2', 'batch [redacted]\n', 'the pin is [redacted]', 'exit 1: batch [redacted]'],
      ['j3', '[redacted]\n', 'the pin is [redacted]', 'exit 1: [redacted]'],
    ]);
    // A re-sent entry is the same entry (masked the same way), not a conflict.
    expect(
      (await call(t.url, 'POST', `/api/v1/requests/${id}/log`, entry(id, 'j1', `echo ${PASSWORD}`), jrCreds))
        .status,
    ).toBe(201);
    // What is stored holds no secret.
    const stored = JSON.stringify(await t.rm.db.ds.query(`SELECT * FROM job_log WHERE request_id = '${id}'`));
    expect(stored).not.toContain('9f3k2');
    // An RM that did not create the request (another RM, or after a restart) reads the values from the archive.
    const fresh = new SecretMasker(t.rm.db);
    const e = entry(id, 'j4', PASSWORD);
    const plain = entry(created0, 'j1', PASSWORD);
    await fresh.mask([e, plain]);
    expect([e.stdout, plain.stdout]).toEqual(['[redacted]\n', `${PASSWORD}\n`]);
  });

  let created0 = '';
  beforeAll(async () => {
    created0 = (await create('dep', 'deploy', { app: 'no-secrets' })).id;
  });

  it('an error message of a create never shows a secret value', async () => {
    const res = await call(
      t.url,
      'POST',
      '/api/v1/requests',
      { type: 'vault', args: { tool: '/bin/echo', password: 987654321 } },
      as('dep'),
    );
    expect(res.status).toBe(400);
    const message = (res.json as { message: string }).message;
    expect(message).toContain('[redacted]');
    expect(message).not.toContain('987654321');
  });
});
