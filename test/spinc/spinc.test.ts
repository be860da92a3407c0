/**
 * spinc end to end: the real `spinc` executable (stdin a pipe, not a TTY)
 * against a live Request Manager and Job Runner on SQLite.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT, type System, startSystem, waitForState } from '../support/system.js';
import { until } from '../support/until.js';

const SPINC = join(REPO_ROOT, 'packages/spinc/dist/main.js');
const SPECS = join(REPO_ROOT, 'test/spinc/specs');
const ID = '[0-9a-v]{20}';

let sys: System;
let home: string;
let emptyConfig: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spincEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Only what node needs: no SPINC_* from the developer's shell, no real ~/.spinc.yaml or /etc file.
  for (const k of ['PATH', 'TZ', 'LANG', 'SYSTEMROOT'])
    if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, HOME: home, SPINC_CONFIG: emptyConfig, SPINC_ADDR: sys.rm.url, ...extra };
}

/** Start spinc as a child process; stdin stays an open pipe unless `input` is given. */
function spawnSpinc(
  args: string[],
  opts: { env?: Record<string, string>; input?: string } = {},
): { proc: ChildProcess; result: Promise<Result> } {
  const proc = spawn(process.execPath, [SPINC, ...args], {
    cwd: REPO_ROOT,
    env: spincEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (c) => (stdout += c));
  proc.stderr?.on('data', (c) => (stderr += c));
  if (opts.input !== undefined) proc.stdin?.end(opts.input);
  // A spinc that waits for input it will never get is a bug: kill it and let the test fail.
  const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  const result = new Promise<Result>((resolve) =>
    proc.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { proc, result };
}

const spinc = (args: string[], opts: { env?: Record<string, string>; input?: string } = {}) =>
  spawnSpinc(args, opts).result;

function startedId(stdout: string, request: string): string {
  const m = new RegExp(`^OK, started ${request} request (${ID})$`, 'm').exec(stdout);
  if (!m?.[1]) throw new Error(`no "OK, started" line in:\n${stdout}`);
  return m[1];
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'spinc-e2e-'));
  emptyConfig = join(home, 'empty.yaml');
  writeFileSync(emptyConfig, '');
  sys = await startSystem({ db: 'sqlite', specsDir: SPECS });
});

afterAll(async () => {
  await sys?.stop();
});

describe('help, version, request list', () => {
  it('no command lists the requests', async () => {
    const r = await spinc([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Request Manager address: ${sys.rm.url}\n\nRequests:\n`);
    for (const name of ['spinc-args', 'spinc-fail', 'spinc-noop', 'spinc-sleep'])
      expect(r.stdout).toContain(`\n  ${name}\n`);
    const j = await spinc(['--json']);
    expect(JSON.parse(j.stdout).map((s: { Name: string }) => s.Name)).toEqual(
      expect.arrayContaining(['spinc-args', 'spinc-sleep']),
    );
  });

  it('help <request> shows args, required marked, defaults shown', async () => {
    const r = await spinc(['help', 'spinc-args']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('spinc-args request args (* required)\n');
    expect(r.stdout).toContain('  * app       the app to greet\n');
    expect(r.stdout).toContain('  * env       where it runs\n');
    expect(r.stdout).toContain('    greeting  what to say (default: hello)\n');
    expect(r.stdout).toContain("To start a spinc-args request, run 'spinc start spinc-args'");
    const j = await spinc(['help', 'spinc-args', '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({
      Name: 'spinc-args',
      Args: [
        { Name: 'app', Type: 'required' },
        { Name: 'env' },
        { Name: 'greeting', Default: 'hello' },
        { Name: 'ms' },
      ],
    });
  });

  it('help, help <command>, unknown topic', async () => {
    const r = await spinc(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes:');
    expect((await spinc(['help', 'stop'])).stdout).toMatch(/^Usage: spinc \[options\] stop <id>/);
    const bad = await spinc(['help', 'nosuch']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^spinc: 'nosuch' is not a valid command or request/);
  });

  it('version shows spinc and the RM', async () => {
    const r = await spinc(['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^spinc 2\\.1\\.1\\nRequest Manager 2\\.1\\.1\\S* at ${sys.rm.url}\\n$`),
    );
    expect(JSON.parse((await spinc(['version', '--json'])).stdout)).toMatchObject({
      spinc: '2.1.1',
      addr: sys.rm.url,
    });
  });
});

describe('start, non-interactive', () => {
  it('missing required args: exit 2 naming them, nothing created, no prompt', async () => {
    const before = await sys.client.findRequests({ type: 'spinc-args', limit: 0 });
    // stdin stays open: a prompt would hang until the kill timer.
    const r = await spinc(['start', 'spinc-args', 'greeting=hi']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spinc: missing required args for request spinc-args: app, env\./);
    expect(r.stdout).toBe('');
    const r2 = await spinc(['start', 'spinc-args', 'app=web'], { input: 'prod\nok\n' });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/missing required args for request spinc-args: env\./);
    const after = await sys.client.findRequests({ type: 'spinc-args', limit: 0 });
    expect(after.length).toBe(before.length);
  });

  it('unknown request or args: exit 2', async () => {
    const r = await spinc(['start', 'spinc-args', 'app=a', 'env=b', 'colour=red']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "spinc: Unknown request args: colour. Run 'spinc help spinc-args' to list valid args.\n",
    );
    const u = await spinc(['start', 'no-such-request']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^spinc: Unknown request: no-such-request\./);
  });

  it('start with args, then status, info, log, find, running and their --json', async () => {
    const r = await spinc(['start', 'spinc-args', 'app=web 1', 'env=prod']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const id = startedId(r.stdout, 'spinc-args');
    expect(r.stdout).toContain(`\n  spinc status ${id}\n`);
    const done = await waitForState(sys.client, id);
    expect(done.state).toBe(3);

    const status = await spinc(['status', id]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^ {3}state: COMPLETE\nprogress: 100%\n runtime: \d+s\n request: spinc-args\n {2}caller:.*\n {4}args: app="web 1" env=prod\n$/,
    );
    expect(JSON.parse((await spinc(['status', id, '--json'])).stdout)).toMatchObject({
      id,
      type: 'spinc-args',
      state: 3,
    });

    const info = await spinc(['info', id]);
    const lines = info.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe(`      id: ${id}`);
    expect(lines[1]).toBe(' request: spinc-args');
    expect(lines[3]).toMatch(/^ created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+s ago\)$/);
    expect(lines[5]).toMatch(/^finished: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(/);
    expect(lines[6]).toBe('   state: COMPLETE');
    expect(lines[8]).toMatch(/^ {4}jobs: (\d+) \(\1 complete\)$/);
    expect(lines[9]).toBe('    args: app="web 1" env=prod greeting=hello ms=10');
    expect(JSON.parse((await spinc(['info', id, '--json'])).stdout)).toMatchObject({
      id,
      args: expect.any(Array),
    });

    const log = await spinc(['log', id]);
    expect(log.code).toBe(0);
    expect(log.stdout).toContain('job name: nap\njob type: sleep\n   state: COMPLETE\n    exit: 0\n');
    expect(log.stdout).toMatch(/ runtime: 0\.0\d{5}s\n/);
    const logJson = JSON.parse((await spinc(['log', id, '--json'])).stdout) as {
      name: string;
      jobId: string;
      startedAt: number;
    }[];
    const nap = logJson.find((l) => l.name === 'nap');
    expect(nap).toBeDefined();
    expect(Number.isInteger(nap?.startedAt)).toBe(true);
    expect((await spinc(['log', id, nap?.jobId ?? ''])).stdout).toContain('job name: nap\n');

    const find = await spinc(['find', 'type=spinc-args', 'states=complete', 'args=app=web 1', 'limit=0']);
    expect(find.code).toBe(0);
    const findLines = find.stdout.trimEnd().split('\n');
    expect(findLines[0]).toMatch(/^ID\s+REQUEST\s+USER\s+STATE\s+CREATED\s+STARTED\s+FINISHED\s+JOBS$/);
    expect(findLines.slice(1).filter((l) => l.startsWith(id))).toHaveLength(1);
    expect(findLines.find((l) => l.startsWith(id))).toMatch(
      / spinc-args .* COMPLETE +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\d{4}-.*Z +\d{4}-.*Z +(\d+) \/ \1$/,
    );
    const local = await spinc(['find', 'type=spinc-args', 'timezone=local'], { env: { TZ: 'Asia/Kolkata' } });
    expect(local.stdout).toMatch(/\+05:30/);
    const none = await spinc(['find', 'type=spinc-args', 'states=FAIL']);
    expect(none).toEqual({ code: 0, stdout: '', stderr: '' });
    const fj = JSON.parse((await spinc(['find', 'type=spinc-args', '--json'])).stdout) as { id: string }[];
    expect(fj.map((x) => x.id)).toContain(id);
    expect(JSON.parse((await spinc(['find', 'type=spinc-args', 'states=FAIL', '--json'])).stdout)).toEqual(
      [],
    );

    const running = await spinc(['running', id]);
    expect(running).toEqual({ code: 1, stdout: '', stderr: '' });
    const runningJson = await spinc(['running', id, '--json']);
    expect(runningJson.code).toBe(1);
    expect(JSON.parse(runningJson.stdout)).toMatchObject({ id, state: 3 });

    // Stopping a COMPLETE request is a no-op that succeeds (as the RM defines it).
    expect(await spinc(['stop', id])).toEqual({ code: 0, stdout: `OK, stopped ${id}\n`, stderr: '' });
    expect(JSON.parse((await spinc(['stop', id, '--json'])).stdout)).toMatchObject({ id, state: 3 });
  });

  it('bad find filters: exit 2', async () => {
    for (const args of [
      ['find', 'since=yesterday'],
      ['find', 'states=sleepy'],
      ['find', 'limit=-1'],
      ['find', 'nonsense'],
    ]) {
      const r = await spinc(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')).toHaveLength(2);
    }
  });

  it('unknown request id: exit 1 with the RM message', async () => {
    for (const cmd of ['status', 'info', 'running', 'stop']) {
      const r = await spinc([cmd, 'doesnotexist00000000']);
      expect(r.code, cmd).toBe(1);
      expect(r.stderr, cmd).toMatch(/^spinc: .*doesnotexist00000000.*\n$/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('start --wait', () => {
  it('exit 0 when the request ends COMPLETE, with progress lines', async () => {
    const r = await spinc(['start', 'spinc-sleep', '--wait']);
    expect(r.code).toBe(0);
    const id = startedId(r.stdout, 'spinc-sleep');
    expect(r.stdout).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ ${id} COMPLETE (\\d+)/\\1 jobs 100% \\d+s$`,
        'm',
      ),
    );
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(`^${id} COMPLETE: (\\d+)/\\1 jobs, runtime \\d+s$`),
    );
    expect(r.stdout).not.toContain('NaN');
  });

  it('exit 4 when it ends FAIL, naming the failed job', async () => {
    const r = await spinc(['start', 'spinc-fail', '--wait']);
    expect(r.code).toBe(4);
    const id = startedId(r.stdout, 'spinc-fail');
    expect(r.stdout).toContain(`${id} FAIL:`);
    expect(r.stderr).toMatch(/^spinc: job fail \(\w+, shell-command\) try 1: FAIL/m);
    expect(r.stderr).toContain(`spinc: request ${id} failed; see 'spinc log ${id}'`);
    const log = await spinc(['log', id]);
    expect(log.stdout).toMatch(/job name: fail\njob type: shell-command\n {3}state: FAIL\n {4}exit: 1\n/);
  });

  it('exit 5 when it is stopped while waiting; ps, running and stop meanwhile', async () => {
    const waiting = spawnSpinc(['start', 'spinc-sleep', 'ms=30000', '--wait', '--json']);
    // With --json the progress goes to stderr and the created id appears in the first progress line.
    const id = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`no progress line: ${seen}`)), 20_000);
      waiting.proc.stderr?.on('data', (c) => {
        seen += c;
        const m = new RegExp(`Z (${ID}) RUNNING`).exec(seen);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });

    expect(await spinc(['running', id])).toEqual({ code: 0, stdout: '', stderr: '' });

    const ps = await until(`spinc ps to list ${id}`, async () => {
      const r = await spinc(['ps', id]);
      return r.stdout.includes(id) ? r : undefined;
    });
    expect(ps.code).toBe(0);
    const psLines = ps.stdout.trimEnd().split('\n');
    expect(psLines[0]).toMatch(/^REQUEST\s+ID\s+PRG\s+USER\s+RUNTIME\s+TRY\s+JOB\s+STATUS$/);
    expect(psLines[1]).toMatch(new RegExp(`^spinc-sleep ${id} +\\d+% .* \\d+s +1 nap +sleeping`));
    const psJson = JSON.parse((await spinc(['ps', '--json'])).stdout) as {
      jobs: { requestId: string }[];
      requests: Record<string, unknown>;
    };
    expect(psJson.jobs.map((j) => j.requestId)).toContain(id);
    expect(psJson.requests[id]).toMatchObject({ type: 'spinc-sleep' });

    const stop = await spinc(['stop', id]);
    expect(stop).toEqual({ code: 0, stdout: `OK, stopped ${id}\n`, stderr: '' });

    const r = await waiting.result;
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ id, state: 6 });
    expect(r.stderr).toContain(`spinc: request ${id} was stopped`);
    expect((await spinc(['running', id])).code).toBe(1);
    expect((await spinc(['status', id])).stdout).toMatch(/^ {3}state: STOPPED\n/);
  });

  it('wait <id> follows a request that is already running', async () => {
    const started = await spinc(['start', 'spinc-sleep', '--json']);
    expect(started.code).toBe(0);
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    const r = await spinc(['wait', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${id} COMPLETE:`);
  });
});

describe('RM unreachable', () => {
  it('exit 3 with one line on stderr', async () => {
    const port = await freePort();
    for (const args of [['status', 'x'], ['start', 'spinc-noop'], ['find'], []]) {
      const r = await spinc(args, { env: { SPINC_ADDR: `http://127.0.0.1:${port}` } });
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toMatch(
        new RegExp(`^spinc: cannot reach the Request Manager at http://127\\.0\\.0\\.1:${port}: .*\\n$`),
      );
    }
  });
});
