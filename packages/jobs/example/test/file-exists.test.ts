/**
 * The example job tested as a job author would: one job with runJob, the whole
 * request with runRequest. No database and no servers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobArgError, State } from '@spincycle/jobs';
import { runJob, runRequest, startJob } from '@spincycle/testing';
import { describe, expect, it } from 'vitest';
import { factory } from '../src/index.js';

const specs = fileURLToPath(new URL('../specs', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'example-jobs-'));
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('file-exists with runJob', () => {
  it('completes for a file big enough and passes its size on as job data', async () => {
    const p = file('a.dump', 'hello');
    const r = await runJob(factory, { type: 'file-exists', name: 'dump', args: { path: p, minBytes: 5 } });
    expect(r.state).toBe(State.COMPLETE);
    expect(r.stdout).toBe(`${p} 5\n`);
    expect(r.data).toEqual({ 'dump.size': 5 });
    expect(r.status).toBe(`${p}: 5 bytes`);
  });

  it('fails on every try for a missing file', async () => {
    const r = await runJob(factory, {
      type: 'file-exists',
      args: { path: path.join(dir, 'nope') },
      tries: 3,
      retryWait: '30s',
      waitScale: 0,
    });
    expect(r.stateName).toBe('FAIL');
    expect(r.tries.map((t) => [t.try, t.stateName, t.error])).toEqual([
      [1, 'FAIL', `${path.join(dir, 'nope')}: ENOENT`],
      [2, 'FAIL', `${path.join(dir, 'nope')}: ENOENT`],
      [3, 'FAIL', `${path.join(dir, 'nope')}: ENOENT`],
    ]);
  });

  it('rejects a bad arg in create, as the Request Manager answers 400', async () => {
    await expect(runJob(factory, { type: 'file-exists', args: { path: 'x', minBytes: -1 } })).rejects.toThrow(
      JobArgError,
    );
  });

  it('a job can be stopped while it runs', async () => {
    // The built-in sleep job, from the same factory: the kit adds the built-ins as the services do.
    const running = await startJob(factory, { type: 'sleep', args: { duration: '1m' } });
    const r = await running.stop();
    expect(r.stateName).toBe('STOPPED');
  });
});

describe('the check-backup request with runRequest', () => {
  it('checks every file in its own job and completes when all are there', async () => {
    const a = file('b1.dump', 'one');
    const b = file('b2.dump', 'two');
    const r = await runRequest(specs, 'check-backup', { files: `${a},${b}` }, factory);
    expect(r.stateName).toBe('COMPLETE');
    const checks = r.jobsNamed('exists');
    expect(checks.map((j) => j.args?.path).sort()).toEqual([a, b].sort());
    expect(checks.every((j) => j.tries.length === 1 && j.stateName === 'COMPLETE')).toBe(true);
  });

  it('fails after three tries of a missing file; the other file passes', async () => {
    const a = file('c1.dump', 'one');
    const missing = path.join(dir, 'c2.dump');
    const r = await runRequest(specs, 'check-backup', { files: `${a},${missing}` }, factory, {
      waitScale: 0,
    });
    expect(r.stateName).toBe('FAIL');
    const byPath = new Map(r.jobsNamed('exists').map((j) => [j.args?.path, j]));
    expect(byPath.get(a)?.tries.map((t) => t.stateName)).toEqual(['COMPLETE']);
    expect(byPath.get(missing)?.tries.map((t) => t.error)).toEqual([
      `${missing}: ENOENT`,
      `${missing}: ENOENT`,
      `${missing}: ENOENT`,
    ]);
  });

  it('a missing required arg is refused before anything runs', async () => {
    await expect(runRequest(specs, 'check-backup', {}, factory)).rejects.toThrow(/files/);
  });
});
