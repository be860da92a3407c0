/** runSpinc in-process against a fake RM: exit codes, messages, prompting, output shapes. */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSpinc } from '../src/index.js';
import { type Call, FakeRm, type Reply, runCaptured } from './fake-rm.js';

const run = (argv: string[], opts: Parameters<typeof runCaptured>[2] = {}) =>
  runCaptured(runSpinc, argv, opts);

const arg = (
  Name: string,
  Type: 'required' | 'optional',
  Default: string | null = null,
  Desc = `the ${Name}`,
) => ({
  Pos: 0,
  Name,
  Desc,
  Type,
  Given: false,
  Default,
  Value: null,
});
const REQUEST_LIST = [
  {
    Name: 'greet',
    Args: [arg('name', 'required'), arg('place', 'required'), arg('greeting', 'optional', 'hello')],
  },
  { Name: 'noop', Args: [] },
];

function request(over: Record<string, unknown> = {}) {
  return {
    id: 'cp0abc0000000000000a',
    type: 'greet',
    state: 2,
    user: 'alice',
    args: [
      { Pos: 0, Name: 'name', Desc: '', Type: 'required', Given: true, Default: null, Value: 'bob' },
      { Pos: 1, Name: 'place', Desc: '', Type: 'required', Given: true, Default: null, Value: 'the moon' },
      {
        Pos: 2,
        Name: 'greeting',
        Desc: '',
        Type: 'optional',
        Given: false,
        Default: 'hello',
        Value: 'hello',
      },
    ],
    createdAt: '2024-05-01T12:00:00Z',
    startedAt: '2024-05-01T12:00:01Z',
    finishedAt: null,
    totalJobs: 4,
    finishedJobs: 1,
    jrURL: 'http://jr:32307',
    ...over,
  };
}

let rm: FakeRm;
let routes: (call: Call) => Reply | undefined;
const base = (call: Call): Reply | undefined => {
  if (call.path === '/api/v1/request-list') return { body: REQUEST_LIST };
  if (call.method === 'POST' && call.path === '/api/v1/requests')
    return { status: 201, body: request({ id: 'cp0new00000000000000', state: 2 }) };
  if (call.path === '/version') return { body: '2.1.1' };
  return undefined;
};

beforeAll(async () => {
  rm = await new FakeRm((c) => routes(c) ?? base(c)).start();
});
afterAll(() => rm.stop());
afterEach(() => {
  rm.calls.length = 0;
  routes = () => undefined;
});
routes = () => undefined;

const env = () => ({ SPINC_ADDR: rm.url });

describe('usage errors exit 2 with one line on stderr', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'unknown command',
      ['frobnicate'],
      /^spinc: Unknown command: frobnicate\. Run 'spinc help' to list commands\.\n$/,
    ],
    [
      'unknown flag',
      ['--bogus', 'status', 'x'],
      /^spinc: Error parsing command line: Unknown option '--bogus'\n$/,
    ],
    ['missing id', ['status'], /status takes one argument/],
    ['two ids', ['info', 'a', 'b'], /info takes one argument/],
    ['ps with two args', ['ps', 'a', 'b'], /ps takes at most one argument/],
    ['bad filter', ['find', 'colour=red'], /Invalid arg 'colour'/],
    ['bad state', ['find', 'states=nope'], /Invalid state 'nope'/],
    ['--wait on another command', ['status', 'x', '--wait'], /--wait is only for 'start'/],
    ['start without a request', ['start'], /start needs a request name/],
    ['start with a bad token', ['start', 'greet', 'oops'], /Invalid command arg: oops/],
    ['bad --timeout', ['--timeout', 'soon', 'ps'], /invalid --timeout 'soon'/],
  ];
  for (const [what, argv, re] of cases) {
    it(what, async () => {
      const r = await run(argv, { env: env() });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    });
  }
  it('bad SPINC_TIMEOUT', async () => {
    const r = await run(['ps'], { env: { ...env(), SPINC_TIMEOUT: 'x' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid SPINC_TIMEOUT 'x'/);
  });
  it('unknown request and unknown args name them', async () => {
    let r = await run(['start', 'nosuch'], { env: env() });
    expect(r).toMatchObject({
      code: 2,
      stderr: 'spinc: Unknown request: nosuch. Run spinc (no arguments) to list all requests.\n',
    });
    r = await run(['start', 'greet', 'name=a', 'place=b', 'colour=red', 'size=2'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "spinc: Unknown request args: colour, size. Run 'spinc help greet' to list valid args.\n",
    );
    r = await run(['help', 'nosuch'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'nosuch' is not a valid command or request/);
    expect(rm.calledWith('POST', '/api/v1/requests')).toHaveLength(0);
  });
});

describe('help and version', () => {
  it('--version and --help need no RM', async () => {
    const bad = { SPINC_ADDR: 'http://127.0.0.1:1' };
    expect(await run(['--version'], { env: bad })).toEqual({ code: 0, stdout: 'spinc 2.1.1\n', stderr: '' });
    const h = await run(['--help'], { env: bad });
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^spinc 2\.1\.1/);
    for (const c of [
      'start',
      'status',
      'info',
      'log',
      'ps',
      'running',
      'stop',
      'find',
      'version',
      'wait',
      'help',
    ])
      expect(h.stdout).toContain(`  ${c}`);
    expect(h.stdout).toContain('Exit codes:');
    const hs = await run(['help', 'find'], { env: bad });
    expect(hs.stdout).toMatch(/^Usage: spinc \[options\] find \[filter=value \.\.\.\]/);
    expect((await run(['start', '--help'], { env: bad })).stdout).toMatch(
      /^Usage: spinc \[options\] start <request>/,
    );
  });
  it('help <request> lists args with * for required and defaults', async () => {
    const r = await run(['help', 'greet'], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `Request Manager address: ${rm.url}`,
        '',
        'greet request args (* required)',
        '  * name      the name',
        '  * place     the place',
        '    greeting  the greeting (default: hello)',
        '',
        "To start a greet request, run 'spinc start greet'",
        '',
      ].join('\n'),
    );
  });
  it('no command lists the requests', async () => {
    const r = await run([], { env: env() });
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: `Request Manager address: ${rm.url}\n\nRequests:\n  greet\n  noop\n\nspinc help  <request>\nspinc start <request>\n`,
    });
  });
  it('version asks the RM', async () => {
    expect((await run(['version'], { env: env() })).stdout).toBe(
      `spinc 2.1.1\nRequest Manager 2.1.1 at ${rm.url}\n`,
    );
    expect(JSON.parse((await run(['version', '--json'], { env: env() })).stdout)).toEqual({
      spinc: '2.1.1',
      requestManager: '2.1.1',
      addr: rm.url,
    });
  });
});

describe('RM unreachable or slow: exit 3, one line, no stack', () => {
  it('connection refused', async () => {
    for (const argv of [
      ['status', 'x'],
      [],
      ['start', 'greet', 'name=a', 'place=b'],
      ['version'],
      ['find'],
    ]) {
      const r = await run(argv, { env: { SPINC_ADDR: 'http://127.0.0.1:1' } });
      expect(r.code, argv.join(' ')).toBe(3);
      const errLines = r.stderr.trim().split('\n');
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toMatch(
        /^spinc: cannot reach the Request Manager at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
  it('--debug adds the stack', async () => {
    const r = await run(['status', 'x', '--debug'], { env: { SPINC_ADDR: 'http://127.0.0.1:1' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/DEBUG GET http:\/\/127\.0\.0\.1:1\/api\/v1\/requests\/x/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
  describe('timeout', () => {
    let server: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      // Accepts connections and never answers.
      server = createServer((s) => sockets.push(s));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    it('exits 3 naming the timeout', async () => {
      const port = (server.address() as { port: number }).port;
      const r = await run(['status', 'x', '--timeout', '100'], {
        env: { SPINC_ADDR: `http://127.0.0.1:${port}` },
      });
      expect(r.code).toBe(3);
      expect(r.stderr).toBe(
        `spinc: Request Manager at http://127.0.0.1:${port} did not answer within 100 ms (raise it with --timeout or SPINC_TIMEOUT)\n`,
      );
    });
  });
});

describe('API errors: exit 1 with the original wording', () => {
  it('404 message verbatim, others with the status', async () => {
    routes = (c) => {
      if (c.path === '/api/v1/requests/gone')
        return { status: 404, body: { message: 'request gone not found', requestId: '', httpStatus: 404 } };
      if (c.path === '/api/v1/requests/bad/stop')
        return { status: 409, body: { message: 'request in state COMPLETE, expected state RUNNING' } };
      if (c.path === '/api/v1/requests/empty') return { status: 400 };
      if (c.path === '/api/v1/requests/raw') return { status: 400, body: 'plain words' };
      return undefined;
    };
    expect(await run(['status', 'gone'], { env: env() })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'spinc: request gone not found\n',
    });
    expect((await run(['stop', 'bad'], { env: env() })).stderr).toBe(
      'spinc: API error: request in state COMPLETE, expected state RUNNING (HTTP status 409)\n',
    );
    expect((await run(['info', 'empty'], { env: env() })).stderr).toBe(
      'spinc: no response from API, check logs (HTTP status 400)\n',
    );
    expect((await run(['info', 'raw'], { env: env() })).stderr).toBe(
      'spinc: API error: plain words (HTTP status 400)\n',
    );
    const running = await run(['running', 'gone'], { env: env() });
    expect(running).toMatchObject({ code: 1, stderr: 'spinc: request gone not found\n' });
  });
});

describe('start', () => {
  it('non-interactive: missing required args → exit 2 naming them, nothing created', async () => {
    const r = await run(['start', 'greet', 'place=x'], { env: env(), input: 'bob\nok\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spinc: missing required args for request greet: name\. /);
    const r2 = await run(['start', 'greet'], { env: env() });
    expect(r2.stderr).toMatch(/missing required args for request greet: name, place\./);
    expect(rm.calledWith('POST', '/api/v1/requests')).toHaveLength(0);
  });
  it('non-interactive with args: posts required + given optional args as strings', async () => {
    const r = await run(['start', 'greet', 'name=bob', 'place=the moon'], { env: env() });
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: 'OK, started greet request cp0new00000000000000\n\n  spinc status cp0new00000000000000\n\n',
    });
    const posts = rm.calledWith('POST', '/api/v1/requests');
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]?.body ?? '')).toEqual({
      type: 'greet',
      args: { name: 'bob', place: 'the moon' },
    });
  });
  it('repeats --addr in the printed status command; --json prints the created request', async () => {
    const r = await run(['--addr', rm.url, 'start', 'noop'], { env: {} });
    expect(r.stdout).toContain(`  spinc status --addr ${rm.url} cp0new00000000000000`);
    const j = await run(['start', 'noop', '--json'], { env: env() });
    expect(JSON.parse(j.stdout)).toMatchObject({ id: 'cp0new00000000000000', type: 'greet' });
  });
  it('sends the token as a bearer credential', async () => {
    await run(['start', 'noop'], { env: { ...env(), SPINC_TOKEN: 's3cret' } });
    expect(rm.calls.every((c) => c.headers.authorization === 'Bearer s3cret')).toBe(true);
    rm.calls.length = 0;
    await run(['start', 'noop'], { env: env() });
    expect(rm.calls.every((c) => c.headers.authorization === undefined)).toBe(true);
  });
  it('interactive, no args: prompts required then optional args, prints the command, waits for ok', async () => {
    const r = await run(['start', 'greet'], {
      env: env(),
      interactive: true,
      input: 'bob\n\nthe moon\nhi there\nmaybe\nok\n',
    });
    expect(r.code).toBe(0);
    // Prompts end without a newline: on a terminal the user's Enter supplies it; here input is not echoed.
    expect(r.stdout).toBe(
      [
        '',
        '# the name',
        'name=',
        '# the place',
        'place=# Value required for place',
        'place=',
        '# the greeting (default: hello)',
        'greeting=',
        '# spinc start greet name=bob place="the moon" greeting="hi there"',
        '',
        "Enter 'ok' to start, or ctrl-c to abort: Enter 'ok' to start, or ctrl-c to abort: OK, started greet request cp0new00000000000000",
        '',
        '  spinc status cp0new00000000000000',
        '',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(rm.calledWith('POST', '/api/v1/requests')[0]?.body ?? '')).toEqual({
      type: 'greet',
      args: { name: 'bob', place: 'the moon', greeting: 'hi there' },
    });
  });
  it('interactive with some args: asks only for missing required args; optional defaults are silent', async () => {
    const r = await run(['start', 'greet', 'place=home'], {
      env: env(),
      interactive: true,
      input: 'bob\nok\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('greeting=');
    expect(r.stdout).toContain('# spinc start greet name=bob place=home\n');
  });
  it('interactive: empty optional answer uses the default and echoes it', async () => {
    const r = await run(['start', 'greet'], { env: env(), interactive: true, input: 'bob\nhome\n\nok\n' });
    expect(r.stdout).toContain('greeting=greeting=hello\n');
    expect(JSON.parse(rm.calledWith('POST', '/api/v1/requests')[0]?.body ?? '').args).toEqual({
      name: 'bob',
      place: 'home',
    });
  });
  it('interactive: --yes skips the confirmation', async () => {
    const r = await run(['start', 'greet', 'name=a', 'place=b', '--yes'], {
      env: env(),
      interactive: true,
      input: '',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("Enter 'ok'");
    expect(rm.calledWith('POST', '/api/v1/requests')).toHaveLength(1);
  });
  it('interactive: end of input at any prompt aborts cleanly, nothing created', async () => {
    for (const input of ['', 'bob\n', 'bob\nhome\n\n', 'bob\nhome\n\nnot yet\n']) {
      const r = await run(['start', 'greet'], { env: env(), interactive: true, input });
      expect(r.code, JSON.stringify(input)).toBe(1);
      expect(r.stderr).toBe('spinc: aborted at end of input: nothing was started\n');
    }
    const no = await run(['start', 'noop'], { env: env(), interactive: true, input: 'no\n' });
    expect(no).toMatchObject({ code: 1, stderr: 'spinc: aborted: nothing was started\n' });
    expect(rm.calledWith('POST', '/api/v1/requests')).toHaveLength(0);
  });
  it('--json never prompts even on a terminal', async () => {
    const r = await run(['start', 'greet', '--json'], {
      env: env(),
      interactive: true,
      input: 'bob\nhome\nok\n',
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
  it('a server-side rejection is exit 1 with its message', async () => {
    routes = (c) =>
      c.method === 'POST'
        ? { status: 400, body: { message: "required arg 'name' not set", requestId: '', httpStatus: 400 } }
        : undefined;
    const r = await run(['start', 'greet', 'name=a', 'place=b'], { env: env() });
    expect(r).toMatchObject({
      code: 1,
      stderr: "spinc: API error: required arg 'name' not set (HTTP status 400)\n",
    });
  });
});

describe('start --wait and wait', () => {
  function sequence(states: Record<string, unknown>[]) {
    let i = 0;
    return (c: Call): Reply | undefined => {
      if (c.method === 'GET' && c.path === '/api/v1/requests/cp0new00000000000000') {
        const s = states[Math.min(i++, states.length - 1)];
        return { body: request({ id: 'cp0new00000000000000', ...s }) };
      }
      if (c.path === '/api/v1/requests/cp0new00000000000000/log') {
        return {
          body: [
            {
              requestId: 'cp0new00000000000000',
              jobId: 'j1',
              try: 1,
              name: 'ok-job',
              type: 'noop',
              startedAt: 1,
              finishedAt: 2,
              state: 3,
              exit: 0,
              error: '',
              stdout: '',
              stderr: '',
            },
            {
              requestId: 'cp0new00000000000000',
              jobId: 'j2',
              try: 1,
              name: 'bad-job',
              type: 'shell-command',
              startedAt: 1,
              finishedAt: 3,
              state: 4,
              exit: 1,
              error: 'exit status 1',
              stdout: '',
              stderr: 'boom\n',
            },
          ],
        };
      }
      return undefined;
    };
  }
  const done = { finishedAt: '2024-05-01T12:00:05Z' };
  it('exit 0 on COMPLETE, with progress lines when not a terminal', async () => {
    routes = sequence([
      { state: 2, finishedJobs: 1 },
      { state: 2, finishedJobs: 1 },
      { state: 2, finishedJobs: 3 },
      { state: 3, finishedJobs: 4, ...done },
    ]);
    const r = await run(['start', 'greet', 'name=a', 'place=b', '--wait'], { env: env() });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('OK, started greet request cp0new00000000000000');
    const progress = lines.filter((l) => /^\d{4}-\d\d-\d\dT.*Z cp0new/.test(l));
    expect(progress.map((l) => l.split(' ').slice(2, 5).join(' '))).toEqual([
      'RUNNING 1/4 jobs',
      'RUNNING 3/4 jobs',
      'COMPLETE 4/4 jobs',
    ]);
    expect(r.stdout).toMatch(/100% 4s\n/);
    expect(lines.at(-1)).toBe('cp0new00000000000000 COMPLETE: 4/4 jobs, runtime 4s');
    expect(r.stdout).not.toContain('NaN');
  });
  it('exit 4 on FAIL, naming the failed job', async () => {
    routes = sequence([{ state: 4, finishedJobs: 2, ...done }]);
    const r = await run(['start', 'greet', 'name=a', 'place=b', '--wait'], { env: env() });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('spinc: job bad-job (j2, shell-command) try 1: FAIL, exit 1: exit status 1');
    expect(r.stderr).toContain('  stderr: boom');
    expect(r.stderr).not.toContain('ok-job');
  });
  it('exit 5 on STOPPED; waits through SUSPENDED', async () => {
    routes = sequence([{ state: 7 }, { state: 2 }, { state: 6, ...done }]);
    const r = await run(['wait', 'cp0new00000000000000'], { env: env() });
    expect(r.code).toBe(5);
    expect(r.stdout).toContain(' SUSPENDED ');
    expect(r.stderr).toBe('spinc: request cp0new00000000000000 was stopped\n');
  });
  it('a progress bar on a terminal; --json prints only the final request on stdout', async () => {
    routes = sequence([
      { state: 2, finishedJobs: 2 },
      { state: 3, finishedJobs: 4, ...done },
    ]);
    const r = await run(['wait', 'cp0new00000000000000'], { env: env(), stdoutTTY: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\r[###############---------------]  50%  RUNNING');
    expect(r.stdout).toContain('\r[##############################] 100%  COMPLETE');
    routes = sequence([{ state: 3, finishedJobs: 4, ...done }]);
    const j = await run(['start', 'greet', 'name=a', 'place=b', '--wait', '--json'], { env: env() });
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ id: 'cp0new00000000000000', state: 3 });
    expect(j.stderr).toMatch(/COMPLETE 4\/4 jobs/);
  });
});

describe('status, info, log, ps, find, running, stop output', () => {
  it('status: six lines, progress never NaN', async () => {
    routes = (c) =>
      c.path === '/api/v1/requests/r1'
        ? {
            body: request({
              id: 'r1',
              state: 3,
              totalJobs: 0,
              finishedJobs: 0,
              finishedAt: '2024-05-01T13:02:04Z',
            }),
          }
        : undefined;
    const r = await run(['status', 'r1'], { env: env() });
    expect(r.stdout).toBe(
      [
        '   state: COMPLETE',
        'progress: 100%',
        ' runtime: 1h2m3s',
        ' request: greet',
        '  caller: alice',
        '    args: name=bob place="the moon"',
        '',
      ].join('\n'),
    );
    routes = (c) =>
      c.path === '/api/v1/requests/r1'
        ? { body: request({ id: 'r1', state: 1, totalJobs: 0, startedAt: null }) }
        : undefined;
    const p = await run(['status', 'r1'], { env: env() });
    expect(p.stdout).toContain('progress: 0%');
    expect(p.stdout).toContain(' runtime: not started');
  });
  it('info: ten lines with ISO times', async () => {
    routes = (c) => (c.path === '/api/v1/requests/r1' ? { body: request({ id: 'r1' }) } : undefined);
    const r = await run(['info', 'r1'], { env: env() });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('      id: r1');
    expect(lines[3]).toMatch(/^ created: 2024-05-01T12:00:00Z \(\d+h\d+m\d+s ago\)$/);
    expect(lines[5]).toBe('finished:');
    expect(lines.slice(6)).toEqual([
      '   state: RUNNING',
      '    host: http://jr:32307',
      '    jobs: 4 (1 complete)',
      '    args: name=bob place="the moon" greeting=hello',
    ]);
  });
  it('log: blocks sorted by finish time, separated by --', async () => {
    routes = (c) =>
      c.path === '/api/v1/requests/r1/log'
        ? {
            body: [
              {
                requestId: 'r1',
                jobId: 'b',
                try: 1,
                name: 'second',
                type: 'sleep',
                startedAt: 1714564800000000000n.toString(),
                finishedAt: 1714564801500000000n.toString(),
                state: 3,
                exit: 0,
                error: '',
                stdout: 'line1\nline2\n',
                stderr: '',
              },
              {
                requestId: 'r1',
                jobId: 'a',
                try: 1,
                name: 'first',
                type: 'noop',
                startedAt: 1714564800000000000n.toString(),
                finishedAt: 1714564800000123000n.toString(),
                state: 3,
                exit: 0,
                error: '',
                stdout: '',
                stderr: '',
              },
            ].map((e) => ({ ...e, startedAt: Number(e.startedAt), finishedAt: Number(e.finishedAt) })),
          }
        : undefined;
    const r = await run(['log', 'r1'], { env: env() });
    const blocks = r.stdout.split('--\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('  job id: a\njob name: first\n');
    expect(blocks[0]).toMatch(/ runtime: 0\.000123s\n/);
    expect(blocks[1]).toContain(' started: 2024-05-01T12:00:00.000Z\nfinished: 2024-05-01T12:00:01.500Z\n');
    expect(blocks[1]).toContain('  stdout:\n    line1\n    line2\n  stderr:\n');
  });
  it('ps: aligned columns, unknown requests, nothing when idle', async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    routes = (c) =>
      c.path === '/api/v1/status/running'
        ? {
            body: `{"jobs":[{"requestId":"cp0abc0000000000000a","jobId":"j1","type":"sleep","name":"a-rather-long-job-name-indeed","startedAt":${now - 3_000_000_000n},"state":2,"status":"sleeping","try":1},{"requestId":"zzz","jobId":"j2","type":"noop","name":"x","startedAt":${now},"state":2,"try":2}],"requests":{"cp0abc0000000000000a":${JSON.stringify(request({ user: 'averyverylonguser', totalJobs: 9 }))}}}`,
            contentType: 'application/json',
          }
        : undefined;
    const r = await run(['ps'], { env: env() });
    expect(r.stdout.split('\n')).toEqual([
      'REQUEST ID                   PRG USER      RUNTIME TRY JOB                    STATUS',
      'greet   cp0abc0000000000000a 11% aver..ser 3s        1 a-rather-l..ame-indeed sleeping',
      'unknown zzz                   0%           0s        2 x',
      '',
    ]);
    routes = (c) => (c.path === '/api/v1/status/running' ? { body: { jobs: [], requests: {} } } : undefined);
    expect(await run(['ps'], { env: env() })).toEqual({ code: 0, stdout: '', stderr: '' });
  });
  it('find: query parameters, columns, N/A, nothing when empty', async () => {
    routes = (c) =>
      c.path === '/api/v1/requests' && c.method === 'GET'
        ? {
            body: [
              request({ id: 'r1', finishedAt: null }),
              request({
                id: 'r2',
                state: 3,
                startedAt: null,
                finishedAt: '2024-05-01T12:00:05Z',
                finishedJobs: 4,
              }),
            ],
          }
        : undefined;
    const r = await run(
      ['find', 'type=greet', 'states=running,complete', 'args=name=bob', 'since=2024-05-01', 'limit=5'],
      { env: env() },
    );
    const q = rm.calledWith('GET', '/api/v1/requests')[0]?.query;
    expect(q?.get('type')).toBe('greet');
    expect(q?.getAll('state')).toEqual(['RUNNING', 'COMPLETE']);
    expect(q?.getAll('arg')).toEqual(['name=bob']);
    expect(q?.get('since')).toBe('2024-05-01T00:00:00.000Z');
    expect(q?.get('limit')).toBe('5');
    expect(r.stdout.split('\n')).toEqual([
      'ID REQUEST USER  STATE    CREATED              STARTED              FINISHED             JOBS',
      'r1 greet   alice RUNNING  2024-05-01T12:00:00Z 2024-05-01T12:00:01Z N/A                  1 / 4',
      'r2 greet   alice COMPLETE 2024-05-01T12:00:00Z N/A                  2024-05-01T12:00:05Z 4 / 4',
      '',
    ]);
    routes = (c) => (c.path === '/api/v1/requests' ? { body: [] } : undefined);
    expect(await run(['find'], { env: env() })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(rm.calledWith('GET', '/api/v1/requests').at(-1)?.query.get('limit')).toBe('10');
    expect(JSON.parse((await run(['find', '--json'], { env: env() })).stdout)).toEqual([]);
  });
  it('running: 0 for pending/running/suspended, 1 (silent) otherwise', async () => {
    for (const [state, code] of [
      [1, 0],
      [2, 0],
      [7, 0],
      [3, 1],
      [4, 1],
      [6, 1],
    ] as const) {
      routes = (c) => (c.path === '/api/v1/requests/r1' ? { body: request({ id: 'r1', state }) } : undefined);
      expect(await run(['running', 'r1'], { env: env() }), `state ${state}`).toEqual({
        code,
        stdout: '',
        stderr: '',
      });
    }
  });
  it('stop: OK line; --json prints the request after the stop', async () => {
    routes = (c) => {
      if (c.path === '/api/v1/requests/r1/stop') return { status: 200 };
      if (c.path === '/api/v1/requests/r1') return { body: request({ id: 'r1', state: 6 }) };
      return undefined;
    };
    expect(await run(['stop', 'r1'], { env: env() })).toEqual({
      code: 0,
      stdout: 'OK, stopped r1\n',
      stderr: '',
    });
    expect(JSON.parse((await run(['stop', 'r1', '--json'], { env: env() })).stdout)).toMatchObject({
      id: 'r1',
      state: 6,
    });
  });
});

describe('config files', () => {
  it('--config files give addr (later wins) and token; flags still win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spinc-cfg-'));
    writeFileSync(join(dir, 'a.yaml'), 'addr: http://127.0.0.1:1\ntimeout: 2000\n');
    writeFileSync(join(dir, 'b.yaml'), `addr: ${rm.url}\ntoken: fromfile\n`);
    const r = await run(['--config', `${join(dir, 'a.yaml')},${join(dir, 'b.yaml')}`, 'version'], {
      env: {},
    });
    expect(r.code).toBe(0);
    expect(rm.calls.at(-1)?.headers.authorization).toBe('Bearer fromfile');
    const viaEnv = await run(['version'], { env: { SPINC_CONFIG: join(dir, 'a.yaml') } });
    expect(viaEnv.code).toBe(3);
    const missing = await run(['--config', join(dir, 'nope.yaml'), '--addr', rm.url, 'version'], { env: {} });
    expect(missing.code).toBe(0);
    expect(missing.stderr).toMatch(/^spinc: warning: ignoring config file .*nope\.yaml: file not found\n$/);
  });
  it('~/.spinc.yaml is read from HOME', async () => {
    const home = mkdtempSync(join(tmpdir(), 'spinc-home-'));
    writeFileSync(join(home, '.spinc.yaml'), `addr: ${rm.url}\n`);
    const r = await run(['version'], { env: { HOME: home } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(rm.url);
  });
});
