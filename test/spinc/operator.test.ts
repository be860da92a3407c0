/**
 * spinc start --plan, start --idempotency-key and why, in-process against a
 * live Request Manager and Job Runner on SQLite.
 */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { RmClient, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSpinc } from '../../packages/spinc/dist/index.js';
import { REPO_ROOT, type System, startSystem, waitForState } from '../support/system.js';

let sys: System;

beforeAll(async () => {
  sys = await startSystem({ db: 'sqlite', specsDir: join(REPO_ROOT, 'test/spinc/operator-specs') });
});
afterAll(async () => {
  await sys?.stop();
});

async function spinc(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  const code = await runSpinc(argv, {
    stdin,
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: { HOME: '/nonexistent-home', SPINC_ADDR: sys.rm.url },
    interactive: false,
    systemConfigFile: '/nonexistent/spinc.yaml',
  });
  stdin.destroy();
  return { code, stdout, stderr };
}

describe('spinc and the operator features', () => {
  it('start --plan prints the job tree with types and args, secrets redacted, and starts nothing', async () => {
    const rm = new RmClient({ baseURL: sys.rm.url, retry: { attempts: 1 } });
    const before = (await rm.findRequests()).length;
    const out = await spinc(['start', 'deploy', 'host=web1', 'password=hunter2', '--plan']);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toContain('hunter2');
    const lines = out.stdout.split('\n');
    const check = lines.findIndex((l) => /^\s+check \[noop\]$/.test(l));
    const push = lines.findIndex((l) => /^\s+push \[noop\]$/.test(l));
    expect(check).toBeGreaterThan(0);
    // push depends on check: it is printed under it, indented deeper.
    expect(push).toBeGreaterThan(check);
    const indent = (l: string | undefined) => (l ?? '').length - (l ?? '').trimStart().length;
    expect(indent(lines[push])).toBeGreaterThan(indent(lines[check]));
    expect(lines.slice(push + 1, push + 3)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/host=web1$/),
        expect.stringMatching(/secret=\[redacted\]$/),
      ]),
    );
    expect((await rm.findRequests()).length).toBe(before);
  });

  it('start --idempotency-key twice starts one request; why explains it', async () => {
    const argv = ['start', 'deploy', 'host=web2', 'password=x', '--idempotency-key', 'rollout-7', '--json'];
    const a = await spinc(argv);
    const b = await spinc(argv);
    expect([a.code, b.code]).toEqual([0, 0]);
    const id = (JSON.parse(a.stdout) as { id: string }).id;
    expect((JSON.parse(b.stdout) as { id: string }).id).toBe(id);
    await waitForState(new RmClient({ baseURL: sys.rm.url }), id, [State.COMPLETE]);
    const why = await spinc(['why', id]);
    expect(why.code).toBe(0);
    expect(why.stdout).toContain(`request ${id} is COMPLETE`);
    expect(why.stdout).toContain('every job completed');
    expect((await spinc(['why', id, '--plan'])).code).toBe(2);
  });
});
