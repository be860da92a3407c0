/**
 * spinc in-process: `runSpinc` (the real CLI code) with injected stdin, stdout,
 * stderr and env, against a live Request Manager and Job Runner on SQLite.
 * Exit codes, messages, prompting, --wait and the output of every command;
 * what a command did is checked in the RM itself (RmClient), not in the calls
 * spinc made. Specs: test/spinc/inprocess-specs (exact outputs depend on them).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Request } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAll } from '../../packages/spinc/dist/commands/find.js';
import { runSpinc } from '../../packages/spinc/dist/index.js';
import {
  REPO_ROOT,
  type ServiceProcess,
  type System,
  startJr,
  startSystem,
  waitForState,
} from '../support/system.js';
import { until } from '../support/until.js';

const SPECS = join(REPO_ROOT, 'test/spinc/inprocess-specs');
const ID = '[0-9a-v]{20}';
const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';
const CLOSED = 'http://127.0.0.1:1';

let sys: System;
let url: string;
/** The Job Runner started in place of the system's one (sys.stop() stops only the first). */
let restartedJr: ServiceProcess | undefined;

beforeAll(async () => {
  // A quick resumer, so a chain suspended by a Job Runner restart is resumed within the test.
  sys = await startSystem({ db: 'sqlite', specsDir: SPECS, rmEnv: { SPINCYCLE_RESUMER_INTERVAL: '200ms' } });
  url = sys.rm.url;
});

afterAll(async () => {
  await restartedJr?.stop();
  await sys?.stop();
});

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  /** Default: SPINC_ADDR of the live RM. */
  env?: Record<string, string>;
  /** Lines for stdin, then end of input; without it stdin stays open. */
  input?: string;
  interactive?: boolean;
  stdoutTTY?: boolean;
}

/** Start spinc in-process; `out` fills as it writes, `done` settles with the exit code. */
function launch(argv: string[], opts: RunOptions = {}): { out: Captured; done: Promise<Captured> } {
  const out: Captured = { code: -1, stdout: '', stderr: '' };
  const stdin = new PassThrough();
  if (opts.input !== undefined) stdin.end(opts.input);
  const done = runSpinc(argv, {
    stdin,
    stdout: { write: (s: string) => (out.stdout += s), isTTY: opts.stdoutTTY ?? false },
    stderr: { write: (s: string) => (out.stderr += s), isTTY: false },
    env: { HOME: '/nonexistent-home', ...(opts.env ?? { SPINC_ADDR: url }) },
    interactive: opts.interactive ?? false,
    systemConfigFile: '/nonexistent/spinc.yaml',
    pollMaxMs: 20,
  }).then((code) => {
    stdin.destroy();
    out.code = code;
    return { ...out };
  });
  return { out, done };
}

const run = (argv: string[], opts: RunOptions = {}) => launch(argv, opts).done;

function startedId(stdout: string, request: string): string {
  const m = new RegExp(`OK, started ${request} request (${ID})$`, 'm').exec(stdout);
  if (!m?.[1]) throw new Error(`no "OK, started" line in:\n${stdout}`);
  return m[1];
}

/** How many requests the RM holds (of one type). */
async function count(type?: string): Promise<number> {
  return (await sys.client.findRequests({ type, limit: 0 })).length;
}

/** The stored args as [name, given, value]. */
function argsOf(req: Request): [string, boolean, unknown][] {
  return (req.args ?? []).map((a) => [a.Name, a.Given, a.Value]);
}

/** A `nap` that sleeps long: a request that stays RUNNING until stopped. */
async function longNap(): Promise<string> {
  return (await sys.client.createRequest('nap', { ms: '60000' })).id;
}

async function stopAndSettle(id: string): Promise<void> {
  await sys.client.stopRequest(id);
  await waitForState(sys.client, id, [3, 4, 6]);
}

/** A plain HTTP server that records the headers it receives and answers 404: not an RM. */
async function headerProbe(): Promise<{ url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"nothing here"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('usage errors that need the request list: exit 2, nothing created', () => {
  it('unknown request and unknown args name them', async () => {
    const before = await count();
    let r = await run(['start', 'nosuch']);
    expect(r).toMatchObject({
      code: 2,
      stderr: 'spinc: Unknown request: nosuch. Run spinc (no arguments) to list all requests.\n',
    });
    r = await run(['start', 'greet', 'name=a', 'place=b', 'colour=red', 'size=2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "spinc: Unknown request args: colour, size. Run 'spinc help greet' to list valid args.\n",
    );
    r = await run(['help', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'nosuch' is not a valid command or request/);
    expect(await count()).toBe(before);
  });
});

describe('help and version', () => {
  it('help <request> lists args with * for required and defaults', async () => {
    const r = await run(['help', 'greet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `Request Manager address: ${url}`,
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
    const r = await run([]);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: `Request Manager address: ${url}\n\nRequests:\n  fail\n  greet\n  nap\n  noop\n  steps\n\nspinc help  <request>\nspinc start <request>\n`,
    });
  });
  it('version asks the RM', async () => {
    expect(await run(['version'])).toEqual({
      code: 0,
      stdout: `spinc 2.1.1\nRequest Manager 2.1.1 at ${url}\n`,
      stderr: '',
    });
    expect(JSON.parse((await run(['version', '--json'])).stdout)).toEqual({
      spinc: '2.1.1',
      requestManager: '2.1.1',
      addr: url,
    });
  });
});

describe('API errors: exit 1 with the original wording', () => {
  it('404 message verbatim, others with the status', async () => {
    for (const cmd of ['status', 'info', 'running', 'stop']) {
      expect(await run([cmd, 'gone']), cmd).toEqual({
        code: 1,
        stdout: '',
        stderr: 'spinc: request gone not found\n',
      });
    }
    // A 400 from the RM: the sleep job rejects the duration when the chain is built.
    const r = await run(['start', 'nap', 'ms=soon']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^spinc: API error: .*arg duration: must be a duration.*"soon" \(HTTP status 400\)\n$/,
    );
  });
});

describe('start', () => {
  it('non-interactive: missing required args → exit 2 naming them, nothing created', async () => {
    const before = await count('greet');
    const r = await run(['start', 'greet', 'place=x'], { input: 'bob\nok\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spinc: missing required args for request greet: name\. /);
    const r2 = await run(['start', 'greet']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/missing required args for request greet: name, place\./);
    expect(await count('greet')).toBe(before);
  });
  it('non-interactive with args: creates the request with the given args, the optional one defaulted', async () => {
    const before = await count('greet');
    const r = await run(['start', 'greet', 'name=bob', 'place=the moon']);
    const id = startedId(r.stdout, 'greet');
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: `OK, started greet request ${id}\n\n  spinc status ${id}\n\n`,
    });
    expect(await count('greet')).toBe(before + 1);
    const req = await sys.client.getRequest(id);
    expect(req.type).toBe('greet');
    expect(argsOf(req)).toEqual([
      ['name', true, 'bob'],
      ['place', true, 'the moon'],
      ['greeting', false, 'hello'],
    ]);
  });
  it('repeats --addr in the printed status command; --json prints the created request', async () => {
    const r = await run(['--addr', url, 'start', 'noop'], { env: {} });
    expect(r.code).toBe(0);
    const id = startedId(r.stdout, 'noop');
    expect(r.stdout).toContain(`  spinc status --addr ${url} ${id}\n`);
    expect((await sys.client.getRequest(id)).type).toBe('noop');
    const j = await run(['start', 'noop', '--json']);
    expect(j.code).toBe(0);
    const created = JSON.parse(j.stdout) as Request;
    expect(created).toMatchObject({ id: expect.stringMatching(new RegExp(`^${ID}$`)), type: 'noop' });
    expect((await sys.client.getRequest(created.id)).type).toBe('noop');
  });
  it('sends the token as a bearer credential', async () => {
    const probe = await headerProbe();
    try {
      const r = await run(['start', 'noop'], { env: { SPINC_ADDR: probe.url, SPINC_TOKEN: 's3cret' } });
      expect(r).toMatchObject({ code: 1, stderr: 'spinc: nothing here\n' });
      expect(probe.seen.length).toBeGreaterThan(0);
      expect(probe.seen.map((h) => h.authorization)).toEqual(probe.seen.map(() => 'Bearer s3cret'));
      probe.seen.length = 0;
      await run(['start', 'noop'], { env: { SPINC_ADDR: probe.url } });
      expect(probe.seen.length).toBeGreaterThan(0);
      expect(probe.seen.map((h) => h.authorization)).toEqual(probe.seen.map(() => undefined));
    } finally {
      await probe.close();
    }
    // The real RM takes a request sent with a token.
    const r = await run(['start', 'noop'], { env: { SPINC_ADDR: url, SPINC_TOKEN: 's3cret' } });
    expect(r.code).toBe(0);
    expect((await sys.client.getRequest(startedId(r.stdout, 'noop'))).type).toBe('noop');
  });
  it('interactive, no args: prompts required then optional args, prints the command, waits for ok', async () => {
    const r = await run(['start', 'greet'], {
      interactive: true,
      input: 'bob\n\nthe moon\nhi there\nmaybe\nok\n',
    });
    expect(r.code).toBe(0);
    const id = startedId(r.stdout, 'greet');
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
        `Enter 'ok' to start, or ctrl-c to abort: Enter 'ok' to start, or ctrl-c to abort: OK, started greet request ${id}`,
        '',
        `  spinc status ${id}`,
        '',
        '',
      ].join('\n'),
    );
    expect(argsOf(await sys.client.getRequest(id))).toEqual([
      ['name', true, 'bob'],
      ['place', true, 'the moon'],
      ['greeting', true, 'hi there'],
    ]);
  });
  it('interactive with some args: asks only for missing required args; optional defaults are silent', async () => {
    const r = await run(['start', 'greet', 'place=home'], { interactive: true, input: 'bob\nok\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('greeting=');
    expect(r.stdout).toContain('# spinc start greet name=bob place=home\n');
    expect(argsOf(await sys.client.getRequest(startedId(r.stdout, 'greet')))).toEqual([
      ['name', true, 'bob'],
      ['place', true, 'home'],
      ['greeting', false, 'hello'],
    ]);
  });
  it('interactive: empty optional answer uses the default and echoes it', async () => {
    const r = await run(['start', 'greet'], { interactive: true, input: 'bob\nhome\n\nok\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('greeting=greeting=hello\n');
    expect(argsOf(await sys.client.getRequest(startedId(r.stdout, 'greet')))).toEqual([
      ['name', true, 'bob'],
      ['place', true, 'home'],
      ['greeting', false, 'hello'],
    ]);
  });
  it('interactive: --yes skips the confirmation', async () => {
    const before = await count('greet');
    const r = await run(['start', 'greet', 'name=a', 'place=b', '--yes'], { interactive: true, input: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("Enter 'ok'");
    expect(await count('greet')).toBe(before + 1);
    expect((await sys.client.getRequest(startedId(r.stdout, 'greet'))).type).toBe('greet');
  });
  it('interactive: end of input at any prompt aborts cleanly, nothing created', async () => {
    const before = await count();
    for (const input of ['', 'bob\n', 'bob\nhome\n\n', 'bob\nhome\n\nnot yet\n']) {
      const r = await run(['start', 'greet'], { interactive: true, input });
      expect(r.code, JSON.stringify(input)).toBe(1);
      expect(r.stderr).toBe('spinc: aborted at end of input: nothing was started\n');
    }
    const no = await run(['start', 'noop'], { interactive: true, input: 'no\n' });
    expect(no).toMatchObject({ code: 1, stderr: 'spinc: aborted: nothing was started\n' });
    expect(await count()).toBe(before);
  });
  it('--json never prompts even on a terminal', async () => {
    const before = await count('greet');
    const r = await run(['start', 'greet', '--json'], { interactive: true, input: 'bob\nhome\nok\n' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/missing required args for request greet: name, place\./);
    expect(await count('greet')).toBe(before);
  });
  it('a server-side rejection is exit 1 with its message, nothing created', async () => {
    const before = await count('nap');
    const r = await run(['start', 'nap', 'ms=soon']);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `spinc: API error: in seq nap, node a-rather-long-job-name-indeed: cannot build job: Error creating 'sleep a-rather-long-job-name-indeed' job: arg duration: must be a duration: milliseconds as a number or numeric string, or a duration like "30s", got "soon" (HTTP status 400)\n`,
    );
    expect(await count('nap')).toBe(before);
  });
});

/** The progress lines (not a terminal) of one request, as [state, finished, total]. */
function progressOf(stdout: string, id: string): [string, number, number][] {
  const re = new RegExp(`^${ISO} ${id} (\\w+) (\\d+)/(\\d+) jobs (\\d+)% \\S+$`);
  return stdout
    .split('\n')
    .map((l) => re.exec(l))
    .filter((m) => m !== null)
    .map((m) => [m[1] as string, Number(m[2]), Number(m[3])]);
}

describe('start --wait and wait', () => {
  it('exit 0 on COMPLETE, with progress lines when not a terminal', async () => {
    // Four steps of 500 ms: the JR reports progress about once a second, so some lands mid-way.
    const r = await run(['start', 'steps', 'ms=500', '--wait']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    const id = startedId(r.stdout, 'steps');
    expect(lines[0]).toBe(`OK, started steps request ${id}`);
    const total = (await sys.client.getRequest(id)).totalJobs;
    const progress = progressOf(r.stdout, id);
    // One line per change of state or progress: never the same line twice in a row.
    for (let i = 1; i < progress.length; i++) expect(progress[i]).not.toEqual(progress[i - 1]);
    expect(progress.every(([, , t]) => t === total)).toBe(true);
    expect(progress.map(([, n]) => n)).toEqual(progress.map(([, n]) => n).sort((a, b) => a - b));
    expect(progress[0]?.[0]).toBe('RUNNING');
    expect(progress.some(([s, n]) => s === 'RUNNING' && n > 0 && n < total)).toBe(true);
    expect(progress.at(-1)).toEqual(['COMPLETE', total, total]);
    expect(r.stdout).toMatch(new RegExp(`COMPLETE ${total}/${total} jobs 100% \\d+s\\n`));
    expect(lines.at(-1)).toMatch(new RegExp(`^${id} COMPLETE: ${total}/${total} jobs, runtime \\d+s$`));
    expect(r.stdout).not.toContain('NaN');
    expect((await sys.client.getRequest(id)).state).toBe(3);
  });
  it('exit 4 on FAIL, naming the failed job', async () => {
    const r = await run(['start', 'fail', '--wait']);
    expect(r.code).toBe(4);
    const id = startedId(r.stdout, 'fail');
    expect(r.stderr).toMatch(
      /^spinc: job bad-job \(\w+, shell-command\) try 1: FAIL, exit 1: exit status 1$/m,
    );
    expect(r.stderr).toContain('  stderr: boom\n');
    expect(r.stderr).not.toContain('ok-job');
    expect(r.stderr).toContain(`spinc: request ${id} failed; see 'spinc log ${id}'\n`);
    expect((await sys.client.getRequest(id)).state).toBe(4);
  });
  it('exit 5 on STOPPED; waits through SUSPENDED', async () => {
    const id = await longNap();
    const waiting = launch(['wait', id]);
    await until('a RUNNING line', () => waiting.out.stdout.includes(` ${id} RUNNING `));
    await until('the job to run', async () =>
      (await sys.client.runningStatus(id)).jobs?.some((j) => j.requestId === id),
    );

    // A Job Runner shutdown suspends the chain; `wait` keeps waiting.
    const jrPort = Number(new URL(sys.jr.url).port);
    await sys.jr.stop();
    await until('a SUSPENDED line', () => waiting.out.stdout.includes(` ${id} SUSPENDED `));
    expect(await run(['running', id])).toEqual({ code: 0, stdout: '', stderr: '' });

    // A new Job Runner on the same address: the RM resumes the chain there.
    restartedJr = await startJr({ rmUrl: url, port: jrPort });
    sys.jr = restartedJr;
    await until('a RUNNING line after SUSPENDED', () =>
      waiting.out.stdout.slice(waiting.out.stdout.indexOf(' SUSPENDED ')).includes(` ${id} RUNNING `),
    );
    expect(waiting.out.code).toBe(-1);
    expect(await run(['stop', id])).toEqual({ code: 0, stdout: `OK, stopped ${id}\n`, stderr: '' });

    const r = await waiting.done;
    expect(r.code).toBe(5);
    // While no JR listens the resumer may flip it RUNNING and back (its send fails): any number of rounds.
    const states = progressOf(r.stdout, id).map(([s]) => s);
    expect(states[0]).toBe('RUNNING');
    expect(states.slice(states.indexOf('SUSPENDED'))).toContain('RUNNING');
    expect(states.at(-1)).toBe('STOPPED');
    expect([...new Set(states)].sort()).toEqual(['RUNNING', 'STOPPED', 'SUSPENDED']);
    expect(r.stderr).toBe(`spinc: request ${id} was stopped\n`);
    expect((await sys.client.getRequest(id)).state).toBe(6);
  });
  it('a progress bar on a terminal; --json prints only the final request on stdout', async () => {
    const { id, totalJobs } = await sys.client.createRequest('steps', { ms: '500' });
    const r = await run(['wait', id], { stdoutTTY: true });
    expect(r.code).toBe(0);
    const bars = r.stdout.split('\r').filter((s) => s !== '');
    expect(bars.some((b) => /^\[#+-+\] +\d+% {2}RUNNING /.test(b))).toBe(true);
    expect(bars.at(-1)).toMatch(
      new RegExp(
        `^\\[#{30}\\] 100%  COMPLETE  ${totalJobs}/${totalJobs} jobs  \\d+s\\u001b\\[K\\n${id} COMPLETE: `,
      ),
    );
    expect(r.stdout).not.toContain('NaN');

    const j = await run(['start', 'noop', '--wait', '--json']);
    expect(j.code).toBe(0);
    const final = JSON.parse(j.stdout) as Request;
    expect(final).toMatchObject({ type: 'noop', state: 3 });
    expect(j.stderr).toMatch(new RegExp(`^${ISO} ${final.id} COMPLETE (\\d+)/\\1 jobs 100%`, 'm'));
    expect(j.stderr).not.toContain('OK, started');
    expect((await sys.client.getRequest(final.id)).state).toBe(3);
  });
});

describe('status, info, log, ps, find, running, stop output', () => {
  it('status: six lines, progress never NaN', async () => {
    const { id } = await sys.client.createRequest('greet', { name: 'bob', place: 'the moon' });
    await waitForState(sys.client, id);
    const r = await run(['status', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        [
          '^   state: COMPLETE',
          'progress: 100%',
          ' runtime: \\d+s',
          ' request: greet',
          '  caller:', // the RM's anonymous caller has no name
          '    args: name=bob place="the moon"\\n$',
        ].join('\\n'),
      ),
    );
    const nap = await longNap();
    try {
      const p = await run(['status', nap]);
      expect(p.stdout).toMatch(/^ {3}state: RUNNING\nprogress: \d+%\n runtime: \d+s\n request: nap\n/);
      expect(p.stdout).not.toContain('NaN');
    } finally {
      await stopAndSettle(nap);
    }
  });
  it('info: ten lines with ISO times', async () => {
    const id = await longNap();
    try {
      const { totalJobs } = await sys.client.getRequest(id);
      const r = await run(['info', id]);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(10);
      expect(lines[0]).toBe(`      id: ${id}`);
      expect(lines[1]).toBe(' request: nap');
      expect(lines[2]).toBe('  caller:');
      expect(lines[3]).toMatch(new RegExp(`^ created: ${ISO} \\(\\d+s ago\\)$`));
      expect(lines[4]).toMatch(new RegExp(`^ started: ${ISO} \\(\\d+s ago\\)$`));
      expect(lines[5]).toBe('finished:');
      expect(lines[6]).toBe('   state: RUNNING');
      expect(lines[7]).toBe(`    host: ${sys.jr.url}`);
      expect(lines[8]).toMatch(new RegExp(`^ {4}jobs: ${totalJobs} \\(\\d+ complete\\)$`));
      expect(lines[9]).toBe('    args: ms=60000');
    } finally {
      await stopAndSettle(id);
    }
  });
  it('log: blocks sorted by finish time, separated by --', async () => {
    const { id } = await sys.client.createRequest('fail');
    await waitForState(sys.client, id);
    const entries = await sys.client.getJobLogs(id);
    const r = await run(['log', id]);
    expect(r.code).toBe(0);
    const blocks = r.stdout.split('--\n');
    expect(blocks).toHaveLength(entries.length);
    const finished = blocks.map((b) => /^finished: (\S+)$/m.exec(b)?.[1] ?? '');
    expect(finished.every((f) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(f))).toBe(true);
    expect(finished).toEqual([...finished].sort());
    for (const b of blocks) {
      expect(b).toMatch(/^ {2}job id: \S+\njob name: \S+\njob type: \S+\n/);
      expect(b).toMatch(/\n runtime: \d+\.\d{6}s\n started: \S+Z\nfinished: \S+Z\n/);
    }
    // The failing job finishes last; its multi-line stdout is indented under the label.
    expect(blocks.at(-1)).toContain(
      'job name: bad-job\njob type: shell-command\n   state: FAIL\n    exit: 1\n',
    );
    expect(blocks.at(-1)).toContain('  stdout:\n    line1\n    line2\n  stderr: boom\n');
  });
  it('ps: aligned columns, nothing when idle', async () => {
    const id = await longNap();
    try {
      const r = await until('the job in ps', async () => {
        const p = await run(['ps']);
        return p.stdout.includes(id) ? p : undefined;
      });
      expect(r.code).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe(
        'REQUEST ID                   PRG USER RUNTIME TRY JOB                    STATUS',
      );
      expect(lines[1]).toMatch(
        new RegExp(`^nap {5}${id} +\\d+% {6}\\d+s +1 a-rather-l\\.\\.ame-indeed sleeping, \\d+ ms left$`),
      );
      expect(lines[2]).toBe('');
      expect((await run(['ps', id])).stdout).toContain(`${id} `);
    } finally {
      await stopAndSettle(id);
    }
    await until('no running jobs', async () => ((await sys.client.runningStatus()).jobs ?? []).length === 0);
    expect(await run(['ps'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });
  it('find: filters, columns, N/A, nothing when empty', async () => {
    const bob = (await sys.client.createRequest('greet', { name: 'bob', place: 'x' })).id;
    const alice = (await sys.client.createRequest('greet', { name: 'alice', place: 'x' })).id;
    await waitForState(sys.client, bob);
    await waitForState(sys.client, alice);
    const nap = await longNap();
    try {
      const today = new Date().toISOString().slice(0, 10);
      const r = await run([
        'find',
        'type=greet',
        'states=running,complete',
        'args=name=bob',
        `since=${today}`,
        'limit=5',
      ]);
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^ID {19}REQUEST USER STATE {4}CREATED {14}STARTED {14}FINISHED {13}JOBS$/);
      const rows = lines.slice(1);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.length).toBeLessThanOrEqual(5);
      expect(rows.some((l) => l.startsWith(`${bob} `))).toBe(true);
      expect(rows.some((l) => l.startsWith(`${alice} `))).toBe(false);
      for (const row of rows) {
        expect(row).toMatch(new RegExp(`^${ID} greet {8}COMPLETE ${ISO} ${ISO} ${ISO} (\\d+) / \\1$`));
        const req = await sys.client.getRequest(row.slice(0, 20));
        expect(argsOf(req)[0]).toEqual(['name', true, 'bob']);
      }
      expect((await run(['find', 'type=greet', 'limit=1'])).stdout.trimEnd().split('\n')).toHaveLength(2);
      expect(await run(['find', 'type=greet', 'since=2999-01-01'])).toEqual({
        code: 0,
        stdout: '',
        stderr: '',
      });

      const running = await run(['find', 'type=nap', 'states=running']);
      expect(running.stdout.trimEnd().split('\n').slice(1)).toEqual([
        expect.stringMatching(new RegExp(`^${nap} nap {10}RUNNING ${ISO} ${ISO} N/A {6}\\d+ / \\d+$`)),
      ]);

      expect(await run(['find', 'type=noop', 'states=pending'])).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(JSON.parse((await run(['find', 'type=noop', 'states=pending', '--json'])).stdout)).toEqual([]);

      // Without limit=, find shows the 10 newest.
      while ((await count()) < 11) await sys.client.createRequest('noop');
      const all = JSON.parse((await run(['find', '--json'])).stdout) as Request[];
      expect(all).toHaveLength(10);
      expect(all[0]?.id).toBe((await sys.client.findRequests({ limit: 1 }))[0]?.id);

      // Pages: spinc follows the RM's next-page cursor, and tells where a cut-off listing goes on.
      const every = (await sys.client.findRequests({ limit: 1000 })).map((r) => r.id);
      expect((await findAll(sys.client, { limit: 7 }, 3)).requests.map((r) => r.id)).toEqual(
        every.slice(0, 7),
      );
      const cut = await run(['find', 'limit=3', '--json']);
      const cursor = /^more requests match: add cursor=(\S+) for the next 3$/m.exec(cut.stderr)?.[1];
      expect(cursor).toBeDefined();
      const next = JSON.parse(
        (await run(['find', 'limit=3', `cursor=${cursor}`, '--json'])).stdout,
      ) as Request[];
      expect(next.map((r) => r.id)).toEqual(every.slice(3, 6));
    } finally {
      await stopAndSettle(nap);
    }
  });
  it('running: 0 while running, 1 (silent) once COMPLETE, FAIL or STOPPED', async () => {
    const complete = (await sys.client.createRequest('noop')).id;
    const failed = (await sys.client.createRequest('fail')).id;
    const nap = await longNap();
    await waitForState(sys.client, complete);
    await waitForState(sys.client, failed);
    expect(await run(['running', nap])).toEqual({ code: 0, stdout: '', stderr: '' });
    await stopAndSettle(nap);
    for (const [id, state] of [
      [complete, 3],
      [failed, 4],
      [nap, 6],
    ] as const) {
      expect((await sys.client.getRequest(id)).state).toBe(state);
      expect(await run(['running', id]), `state ${state}`).toEqual({ code: 1, stdout: '', stderr: '' });
    }
  });
  it('stop: OK line; --json prints the request after the stop', async () => {
    const id = await longNap();
    expect(await run(['stop', id])).toEqual({ code: 0, stdout: `OK, stopped ${id}\n`, stderr: '' });
    expect((await waitForState(sys.client, id)).state).toBe(6);
    expect(JSON.parse((await run(['stop', id, '--json'])).stdout)).toMatchObject({ id, state: 6 });
  });
});

describe('config files', () => {
  it('--config files give addr (later wins) and token; flags still win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spinc-cfg-'));
    writeFileSync(join(dir, 'a.yaml'), `addr: ${CLOSED}\ntimeout: 2000\n`);
    writeFileSync(join(dir, 'b.yaml'), `addr: ${url}\ntoken: fromfile\n`);
    const r = await run(['--config', `${join(dir, 'a.yaml')},${join(dir, 'b.yaml')}`, 'version'], {
      env: {},
    });
    expect(r).toEqual({ code: 0, stdout: `spinc 2.1.1\nRequest Manager 2.1.1 at ${url}\n`, stderr: '' });

    const probe = await headerProbe();
    try {
      writeFileSync(join(dir, 'c.yaml'), `addr: ${probe.url}\ntoken: fromfile\n`);
      await run(['--config', `${join(dir, 'a.yaml')},${join(dir, 'c.yaml')}`, 'version'], { env: {} });
      expect(probe.seen.length).toBeGreaterThan(0);
      expect(probe.seen.at(-1)?.authorization).toBe('Bearer fromfile');
    } finally {
      await probe.close();
    }

    const viaEnv = await run(['version'], { env: { SPINC_CONFIG: join(dir, 'a.yaml') } });
    expect(viaEnv.code).toBe(3);
    const missing = await run(['--config', join(dir, 'nope.yaml'), '--addr', url, 'version'], { env: {} });
    expect(missing.code).toBe(0);
    expect(missing.stdout).toContain(`Request Manager 2.1.1 at ${url}\n`);
    expect(missing.stderr).toMatch(/^spinc: warning: ignoring config file .*nope\.yaml: file not found\n$/);
  });
  it('~/.spinc.yaml is read from HOME', async () => {
    const home = mkdtempSync(join(tmpdir(), 'spinc-home-'));
    writeFileSync(join(home, '.spinc.yaml'), `addr: ${url}\n`);
    const r = await run(['version'], { env: { HOME: home } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`at ${url}\n`);
  });
});
