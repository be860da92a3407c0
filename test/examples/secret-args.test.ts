/**
 * Secret args end to end: the example `set-db-password` (its `password` is
 * `secret: true`) runs through a real RM and JR process at debug log level,
 * on SQLite and MariaDB. The job gets and echoes the real password; every
 * answer, the stored job log, both processes' log output and spinc's output
 * show `[redacted]` instead.
 */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type Request, State, stringifyJson } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSpinc } from '../../packages/spinc/dist/index.js';
import { REPO_ROOT, type System, startSystem, waitForState } from '../support/system.js';

const SPECS = join(REPO_ROOT, 'specs');
const PASSWORD = 'Tr0ub4dor-secret-77q';

async function spinc(url: string, argv: string[]): Promise<string> {
  let out = '';
  const write = (s: string) => {
    out += s;
  };
  await runSpinc(argv, {
    stdin: new PassThrough(),
    stdout: { write, isTTY: false },
    stderr: { write, isTTY: false },
    env: { HOME: '/nonexistent-home', SPINC_ADDR: url },
    interactive: false,
    systemConfigFile: '/nonexistent/spinc.yaml',
    pollMaxMs: 20,
  });
  return out;
}

describe.each(['sqlite', 'mysql'] as const)('secret args end to end on %s', (db) => {
  let sys: System;
  beforeAll(async () => {
    const debug = { LOG_LEVEL: 'debug' };
    sys = await startSystem({ db, specsDir: SPECS, rmEnv: debug, jrEnv: debug });
  });
  afterAll(() => sys?.stop());

  it('the job gets the password; answers, job log, RM and JR logs and spinc show [redacted]', async () => {
    // Through spinc (with --debug: it prints the request it sends), waiting for the end.
    const started = await spinc(sys.rm.url, [
      '--debug',
      'start',
      'set-db-password',
      'dbUser=app',
      `password=${PASSWORD}`,
    ]);
    const id = /OK, started set-db-password request ([0-9a-v]{20})/.exec(started)?.[1] as string;
    expect(id).toBeDefined();
    const done = await waitForState(sys.client, id);
    expect(done.state).toBe(State.COMPLETE);

    // The job echoed the real value; it was masked as the entry arrived.
    const logs = await sys.client.getJobLogs(id);
    const set = logs.find((l) => l.name === 'set-password');
    expect(set?.stdout).toBe('[redacted]\n');

    const got = await sys.client.getRequest(id);
    expect(got.args?.map((a) => [a.Name, a.Value])).toEqual([
      ['dbUser', 'app'],
      ['password', '[redacted]'],
      ['setCmd', '/bin/echo'],
    ]);
    const chain = await sys.client.http.call('GET', `/api/v1/requests/${id}/job-chain`);
    const found = await sys.client.findRequests({ type: 'set-db-password' });
    expect(found.map((r: Request) => r.id)).toContain(id);
    const outputs = [
      started,
      await spinc(sys.rm.url, ['status', id]),
      await spinc(sys.rm.url, ['info', id]),
      await spinc(sys.rm.url, ['log', id]),
      stringifyJson([got, chain.data, found, logs]),
      sys.rm.log,
      sys.jr.log,
    ];
    expect(outputs[1]).toContain('password=[redacted]');
    expect(outputs[3]).toContain('[redacted]');
    // Debug logs were written (the check below is not vacuous).
    expect(sys.rm.log).toContain('create timings');
    for (const text of outputs) expect(text).not.toContain(PASSWORD);
  });
});
