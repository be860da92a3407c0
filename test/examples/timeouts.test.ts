/**
 * Timeouts end to end, through a real RM and a real JR on SQLite and on MariaDB: the
 * `timeouts-and-backoff` example's `sleep` job has `timeout: 500ms` and `retry: 1`; a
 * sleep longer than that is stopped on each try and the request fails.
 */
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type System, startSystem, waitForState } from '../support/system.js';

describe.each(['sqlite', 'mysql'] as const)('timeouts and backoff on %s', (db) => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem({ db, specsDir: join(REPO_ROOT, 'specs') });
  });
  afterAll(() => sys?.stop());

  it('a sleep job over its 500ms timeout fails both tries; the request is FAIL', async () => {
    const req = await sys.client.createRequest('timeouts-and-backoff', { sleepTime: '20000' });
    const done = await waitForState(sys.client, req.id);
    expect(done.state).toBe(State.FAIL);
    const logs = (await sys.client.getJobLogs(req.id)).filter((l) => l.name === 'bounded-sleep');
    expect(logs.map((l) => [l.try, l.state, l.error])).toEqual([
      [1, State.FAIL, 'timed out after 500ms'],
      [2, State.FAIL, 'timed out after 500ms'],
    ]);
    // Nothing after the failed job ran.
    const all = await sys.client.getJobLogs(req.id);
    expect(all.some((l) => l.name === 'pause')).toBe(false);
  });

  it('within its timeouts the request completes', async () => {
    const req = await sys.client.createRequest('timeouts-and-backoff', {});
    const done = await waitForState(sys.client, req.id);
    expect(done.state).toBe(State.COMPLETE);
    const logs = await sys.client.getJobLogs(req.id);
    expect(logs.filter((l) => l.name === 'bounded-sleep').map((l) => l.state)).toEqual([State.COMPLETE]);
    expect(logs.filter((l) => l.name === 'pause').map((l) => l.state)).toEqual([State.COMPLETE]);
  });
});
