/**
 * runSpinc in-process with no Request Manager: usage errors, help and version,
 * and an RM that refuses or never answers. Everything that talks to an RM runs
 * against the live services in test/spinc/run-inprocess.test.ts.
 */

import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSpinc } from '../src/index.js';

/** Nothing listens here: a command that contacted the RM would exit 3, not 2. */
const CLOSED = 'http://127.0.0.1:1';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], opts: { env?: Record<string, string> } = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  const code = await runSpinc(argv, {
    stdin,
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: { HOME: '/nonexistent-home', ...opts.env },
    interactive: false,
    systemConfigFile: '/nonexistent/spinc.yaml',
  });
  stdin.destroy();
  return { code, stdout, stderr };
}

const env = () => ({ SPINC_ADDR: CLOSED });

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
