/**
 * Bounded work per create, on a real RM over HTTP, on both drivers: a denied
 * caller is refused before any job is made, a chain over `limits.max_jobs` is
 * refused while it is being built (400 naming the request, the arg and the
 * count; nothing stored, the RM still answers), and a body over
 * `server.body_limit` never reaches the builder (413).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinJobFactory, type JobFactory } from '@spincycle/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AclAuthorizer } from '../src/auth/acl.js';
import { RequestCatalog } from '../src/catalog.js';
import { DB_KINDS } from './support/db.js';
import { FakeJr } from './support/fake-jr.js';
import { call, startTestRm, type TestRm } from './support/rm.js';

const BENCH_SPECS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'specs');

/** The built-in jobs, counting every job the chain builder makes. */
function countingFactory(): JobFactory & { made: number } {
  const f = {
    made: 0,
    make: (id: Parameters<JobFactory['make']>[0]) => {
      f.made++;
      return builtinJobFactory.make(id);
    },
    types: () => builtinJobFactory.types?.() ?? [],
  };
  return f;
}

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i}`).join(',');

describe.each(DB_KINDS)('create limits (%s)', (db) => {
  let jr: FakeJr;
  let specs: RequestCatalog;
  const rms: TestRm[] = [];
  beforeAll(async () => {
    jr = await new FakeJr().start();
    specs = await RequestCatalog.load(BENCH_SPECS, undefined, process.cwd());
  });
  afterAll(async () => {
    for (const t of rms) await t.close();
    await jr?.close();
  });

  async function rm(overrides: Record<string, unknown>, opts: { denyAll?: boolean } = {}) {
    const factory = countingFactory();
    const catalog = new RequestCatalog(specs.specs, factory);
    const t = await startTestRm({
      db,
      jrUrl: jr.url,
      overrides,
      catalog,
      // Strict ACLs: bench-wide has none, so every caller is denied.
      authorizer: opts.denyAll
        ? new AclAuthorizer({
            adminRoles: [],
            strict: true,
            acls: (type) => specs.specs.sequences.get(type)?.acl,
          })
        : undefined,
    });
    rms.push(t);
    return { t, factory };
  }

  it('a denied create of a huge request is refused before any job is made', async () => {
    const { t, factory } = await rm({ 'server.body_limit': '64mb' }, { denyAll: true });
    const res = await call(t.url, 'POST', '/api/v1/requests', {
      type: 'bench-wide',
      args: { hosts: hosts(50_000) },
    });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({
      message: 'denied: request bench-wide has no ACLs and strict auth is enabled',
    });
    expect(factory.made).toBe(0);
    expect(await t.client.findRequests()).toEqual([]);
  });

  it('bad args are still a 400 before authorization', async () => {
    const { t, factory } = await rm({}, { denyAll: true });
    const res = await call(t.url, 'POST', '/api/v1/requests', { type: 'bench-wide', args: {} });
    expect(res.status).toBe(400);
    expect(factory.made).toBe(0);
  });

  it('a 1,000,000-host create over the default body limit is a 413 naming the limit', async () => {
    const { t, factory } = await rm({});
    const res = await call(t.url, 'POST', '/api/v1/requests', {
      type: 'bench-wide',
      args: { hosts: hosts(1_000_000) },
    });
    expect(res.status).toBe(413);
    expect(res.json).toEqual({
      message: 'request body too large: over the limit of 1048576 bytes',
      requestId: '',
      httpStatus: 413,
    });
    expect(factory.made).toBe(0);
    expect(await t.client.findRequests()).toEqual([]);
  });

  it('with server.body_limit 64mb a 1,000,000-host create is a 400 from limits.max_jobs; nothing stored', async () => {
    const { t } = await rm({ 'server.body_limit': '64mb' });
    expect(t.config['limits.max_jobs']).toBe(100_000);
    const res = await call(t.url, 'POST', '/api/v1/requests', {
      type: 'bench-wide',
      args: { hosts: hosts(1_000_000) },
    });
    expect(res.status).toBe(400);
    const message = (res.json as { message: string }).message;
    expect(message).toContain('request bench-wide');
    expect(message).toContain("'each:' over arg hostList (1000000 elements)");
    expect(message).toContain('more than 100000 jobs (the limit)');
    // Still responsive, and nothing was stored.
    expect(await t.client.findRequests()).toEqual([]);
    expect((await call(t.url, 'GET', '/api/v1/request-list')).status).toBe(200);
  });

  it('limits.max_jobs sets the limit', async () => {
    const { t } = await rm({ 'limits.max_jobs': 25 });
    const small = await call(t.url, 'POST', '/api/v1/requests', {
      type: 'bench-wide',
      args: { hosts: 'a,b' },
    });
    expect(small.status).toBe(201);
    const big = await call(t.url, 'POST', '/api/v1/requests', {
      type: 'bench-wide',
      args: { hosts: hosts(20) },
    });
    expect(big.status).toBe(400);
    expect((big.json as { message: string }).message).toContain(
      "'each:' over arg hostList (20 elements) makes more than 25 jobs (the limit)",
    );
    expect((await t.client.findRequests()).map((r) => r.id)).toEqual([(small.json as { id: string }).id]);
  });
});
