/**
 * The example specs shipped in specs/ (what `pnpm start` loads) run for real
 * through an RM and a JR, on SQLite and on MariaDB: the original's `test`
 * request, `upgrade-fleet` (split, each with parallel batches, a conditional
 * with the built-in noop branch) and `decommission-hosts` (conditional
 * branches, real mkdir/touch through shell-command); `provision-db` with the
 * operator features its README sections show (plan, idempotent submit, why).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type JobLog, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type System, startSystem, waitForState } from '../support/system.js';
import { until } from '../support/until.js';

const SPECS = join(REPO_ROOT, 'specs');

const byName = (logs: JobLog[], name: string) => logs.filter((l) => l.name === name);

describe.each(['sqlite', 'mysql'] as const)('example specs on %s', (db) => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem({ db, specsDir: SPECS });
  });
  afterAll(() => sys?.stop());

  it('lists the example requests with their args', async () => {
    const list = await sys.client.requestList();
    expect(list.map((r) => r.Name)).toEqual([
      'decommission-hosts',
      'deploy-host',
      'nightly-cleanup',
      'notify-on-finish',
      'provision-db',
      'retry-demo',
      'set-db-password',
      'test',
      'timeouts-and-backoff',
      'upgrade-fleet',
    ]);
    const upgrade = list.find((r) => r.Name === 'upgrade-fleet');
    expect(upgrade?.Args.map((a) => [a.Name, a.Type, a.Default])).toEqual([
      ['hosts', 'required', null],
      ['version', 'required', null],
      ['dryRun', 'optional', 'yes'],
    ]);
  });

  it('test: a noop then two parallel sleeps, COMPLETE', async () => {
    const req = await sys.client.createRequest('test', { sleepTime: '100' });
    const done = await waitForState(sys.client, req.id);
    expect(done.state).toBe(State.COMPLETE);
    const logs = await sys.client.getJobLogs(req.id);
    expect(logs.filter((l) => l.type === 'sleep')).toHaveLength(2);
    expect(logs).toHaveLength(done.totalJobs);
  });

  it('upgrade-fleet dry run: every host drained and undrained, nothing installed', async () => {
    const req = await sys.client.createRequest('upgrade-fleet', {
      hosts: 'web1, web2,web3',
      version: '1.2.3',
    });
    const done = await waitForState(sys.client, req.id);
    expect(done.state).toBe(State.COMPLETE);
    const logs = await sys.client.getJobLogs(req.id);
    expect(
      byName(logs, 'drain')
        .map((l) => l.stdout.trim())
        .sort(),
    ).toEqual(['web1', 'web2', 'web3']);
    expect(byName(logs, 'undrain')).toHaveLength(3);
    expect(byName(logs, 'install')).toHaveLength(0);
    expect(byName(logs, 'report')[0]?.stdout.trim()).toBe('1.2.3');
  });

  it('upgrade-fleet for real: the conditional installs the version on each host', async () => {
    const req = await sys.client.createRequest('upgrade-fleet', {
      hosts: 'db1,db2',
      version: '2.0',
      dryRun: 'no',
    });
    const done = await waitForState(sys.client, req.id);
    expect(done.state).toBe(State.COMPLETE);
    const logs = await sys.client.getJobLogs(req.id);
    expect(byName(logs, 'install').map((l) => l.stdout.trim())).toEqual(['2.0', '2.0']);
  });

  it('upgrade-fleet rejects a caller setting a static arg, storing nothing', async () => {
    const before = (await sys.client.findRequests({ type: 'upgrade-fleet' })).length;
    await expect(
      sys.client.createRequest('upgrade-fleet', { hosts: 'a', version: '1', reportCmd: '/bin/rm' }),
    ).rejects.toMatchObject({ status: 400 });
    expect((await sys.client.findRequests({ type: 'upgrade-fleet' })).length).toBe(before);
  });

  it('provision-db: a plan with the secret redacted, one request per idempotency key, why it waits', async () => {
    // A ready wait far longer than the test: the request is stopped once `why` was seen.
    const args = { name: `orders_${db}`, adminPassword: 's3cret', readyWait: '600000' };
    const plan = await sys.client.planRequest('provision-db', args);
    const planned = Object.values(plan.JobChain.jobs).map((j) => j.name);
    expect(planned).toEqual(expect.arrayContaining(['create', 'ready', 'set-password', 'load-schema']));
    expect(JSON.stringify(plan)).not.toContain('s3cret');
    expect(await sys.client.findRequests({ type: 'provision-db' })).toHaveLength(0);

    const key = `provision-${db}-${Date.now()}`;
    const req = await sys.client.createRequest('provision-db', args, { idempotencyKey: key });
    const again = await sys.client.createRequest('provision-db', args, { idempotencyKey: key });
    expect(again.id).toBe(req.id);
    expect(await sys.client.findRequests({ type: 'provision-db' })).toHaveLength(1);

    const why = await until('ready running in explain', async () => {
      const e = await sys.client.explainRequest(req.id);
      const ready = e.jobs.find((j) => j.name === 'ready');
      return ready?.reasons[0]?.kind === 'running' && e;
    });
    const after = why.jobs.filter((j) => j.name === 'set-password' || j.name === 'load-schema');
    expect(after.map((j) => j.reasons[0]?.kind)).toEqual(['dependencies', 'dependencies']);
    await sys.client.stopRequest(req.id);
    expect((await waitForState(sys.client, req.id)).state).toBe(State.STOPPED);
    const logs = await sys.client.getJobLogs(req.id);
    expect(byName(logs, 'create')[0]?.stdout.trim()).toBe(args.name);
  });

  it('decommission-hosts: graceful by default, hard with force=yes, marker files written', async () => {
    // The spec's archive directory is relative to the JR's working directory (the repository here).
    const archive = join(REPO_ROOT, '.data/spincycle-archive');
    const host = `host-${db}-${Date.now()}`;
    rmSync(join(archive, host), { force: true });
    const graceful = await sys.client.createRequest('decommission-hosts', { hosts: host });
    const forced = await sys.client.createRequest('decommission-hosts', {
      hosts: `${host}-b,${host}-c`,
      force: 'yes',
    });
    const [g, f] = [await waitForState(sys.client, graceful.id), await waitForState(sys.client, forced.id)];
    expect([g.state, f.state]).toEqual([State.COMPLETE, State.COMPLETE]);
    const gl = await sys.client.getJobLogs(graceful.id);
    expect(byName(gl, 'drain-connections')).toHaveLength(1);
    expect(byName(gl, 'kill')).toHaveLength(0);
    const fl = await sys.client.getJobLogs(forced.id);
    expect(
      byName(fl, 'kill')
        .map((l) => l.stdout.trim())
        .sort(),
    ).toEqual([`${host}-b`, `${host}-c`]);
    expect(byName(fl, 'drain-connections')).toHaveLength(0);
    for (const h of [host, `${host}-b`, `${host}-c`]) {
      expect(existsSync(join(archive, h))).toBe(true);
      rmSync(join(archive, h), { force: true });
    }
  });
});
