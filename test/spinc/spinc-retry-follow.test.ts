/**
 * `spinc retry [--wait]`, `spinc log -f` and `spinc wait` over the RM's live events:
 * the real spinc executable against a live RM and JR (SQLite), with the example
 * spec that fails until its marker file exists.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JobLog, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type System, startSystem } from '../support/system.js';

const SPINC = join(REPO_ROOT, 'packages/spinc/dist/main.js');

let sys: System;
let dir: string;

function spinc(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    SPINC_CONFIG: join(dir, 'empty.yaml'),
    SPINC_ADDR: sys.rm.url,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [SPINC, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spinc-retry-'));
  writeFileSync(join(dir, 'empty.yaml'), '');
  sys = await startSystem({
    db: 'sqlite',
    specsDir: join(REPO_ROOT, 'specs'),
    rmEnv: { SPINCYCLE_EVENTS_POLL_INTERVAL: '100ms' },
  });
}, 60_000);
afterAll(async () => {
  await sys?.stop();
});

describe('spinc retry and log -f', () => {
  it('start --wait fails, log -f shows the failure, retry --wait completes from the failed job', async () => {
    const marker = join(dir, 'ready');
    const started = await spinc(['start', 'retry-demo', `marker=${marker}`, 'sleepTime=200', '--wait']);
    expect(started.code).toBe(4);
    const id = /OK, started retry-demo request ([0-9a-v]{20})/.exec(started.stdout)?.[1] as string;
    expect(id).toBeTruthy();

    const log = await spinc(['log', '-f', id]);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(/job name:\s+check/);
    expect(log.stdout).toMatch(/state:\s+FAIL/);

    writeFileSync(marker, 'ok\n');
    const retried = await spinc(['retry', id, '--wait']);
    expect(retried.stdout).toContain(`OK, retrying ${id}`);
    expect(retried.stdout).toContain(`${id} COMPLETE`);
    expect(retried.code).toBe(0);

    const again = await spinc(['retry', id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('COMPLETE');
  }, 60_000);

  it('log -f --json follows a running request to its end, one entry per line', async () => {
    const marker = join(dir, 'present');
    writeFileSync(marker, 'ok\n');
    const req = await sys.client.createRequest('retry-demo', { marker, sleepTime: '600' });
    const [followed, waited] = await Promise.all([
      spinc(['log', '-f', '--json', req.id]),
      spinc(['--debug', 'wait', req.id]),
    ]);
    expect(followed.code).toBe(0);
    const entries = followed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JobLog);
    expect(entries.map((e) => e.name)).toEqual(expect.arrayContaining(['prepare', 'check', 'report']));
    expect(entries.every((e) => e.requestId === req.id && e.state === State.COMPLETE)).toBe(true);
    expect(waited.code).toBe(0);
    expect(waited.stdout).toContain(`${req.id} COMPLETE`);
    // wait followed the live events, not polls.
    expect(waited.stderr).toContain(`/api/v1/requests/${req.id}/events`);
    expect(waited.stderr).not.toContain('polling instead');
  }, 60_000);
});
