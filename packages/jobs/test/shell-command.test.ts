import { chmod, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadRequestError, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobArgError } from '../src/errors.js';
import type { Job } from '../src/job.js';
import { isAlive, make, until, viaWire } from './helpers.js';

let tmp: string;
beforeAll(async () => {
  tmp = await realpath(await mkdtemp(join(tmpdir(), 'jobs-shell-')));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const run = async (args: Record<string, unknown>) => (await viaWire('shell-command', args)).run({});

/** The pid the status line shows while the command runs. */
async function runningPid(job: Job): Promise<number> {
  let pid = 0;
  await until(() => {
    const m = /^running .* \(pid (\d+)\) for /.exec(job.status());
    if (m) pid = Number(m[1]);
    return pid > 0;
  });
  return pid;
}

describe('shell-command: exit status and output', () => {
  it('exit 0 is COMPLETE with stdout captured', async () => {
    const ret = await run({ cmd: '/bin/echo', args: ['hello', 'world'] });
    expect(ret).toEqual({ state: State.COMPLETE, exit: 0, stdout: 'hello world\n', stderr: '' });
  });

  it('a string arg is ONE argv entry: spaces do not split it into several arguments', async () => {
    const ret = await run({ cmd: '/bin/sh', args: ['-c', 'printf "%s|" "$@"', 'sh', 'web 1 -rf'] });
    expect(ret.stdout).toBe('web 1 -rf|');
    const spaced = await viaWire('shell-command', { cmd: 'ls', args: '-l /tmp' });
    expect(spaced.status()).toBe('not started: ls "-l /tmp"');
    const missing = join(tmp, 'a b');
    const ls = await run({ cmd: 'ls', args: missing });
    expect(ls.stderr).toContain(`'${missing}'`);
  });

  it('runs without a shell: list args are passed verbatim, nothing is expanded', async () => {
    const ret = await run({ cmd: 'echo', args: ['a  b', '$HOME', '*', ';', '`id`'] });
    expect(ret.state).toBe(State.COMPLETE);
    expect(ret.stdout).toBe('a  b $HOME * ; `id`\n');
  });

  it('a non-zero exit is FAIL with the real exit code', async () => {
    const ret = await run({ cmd: '/bin/false' });
    expect(ret).toMatchObject({ state: State.FAIL, exit: 1, error: 'exit status 1', stdout: '', stderr: '' });
  });

  it('captures stderr and exit codes other than 1', async () => {
    const missing = join(tmp, 'no-such-file');
    const ret = await run({ cmd: 'ls', args: [missing] });
    expect(ret.state).toBe(State.FAIL);
    expect(ret.exit).toBe(2);
    expect(ret.error).toBe('exit status 2');
    expect(ret.stderr).toContain(missing);
    expect(ret.stderr).toContain('No such file or directory');
  });

  it('keeps the tail of a large stdout and marks the truncation', async () => {
    const ret = await run({ cmd: 'seq', args: ['1', '100000'], maxOutput: 1000 });
    let total = 0;
    for (let i = 1; i <= 100_000; i++) total += String(i).length + 1;
    expect(ret.state).toBe(State.COMPLETE);
    const stdout = ret.stdout as string;
    expect(stdout.startsWith(`[… ${total - 1000} bytes truncated …]\n`)).toBe(true);
    const tail = stdout.slice(stdout.indexOf('\n') + 1);
    expect(tail.length).toBe(1000);
    expect(tail.endsWith('99999\n100000\n')).toBe(true);
  });

  it('caps stdout at 64 KiB by default', async () => {
    const ret = await run({ cmd: 'seq', args: ['1', '100000'] });
    const stdout = ret.stdout as string;
    expect(stdout).toMatch(/^\[… \d+ bytes truncated …\]\n/);
    expect(stdout.length - stdout.indexOf('\n') - 1).toBe(64 * 1024);
  });

  it('caps stderr too', async () => {
    const ret = await run({ cmd: '/bin/sh', args: ['-c', 'seq 1 5000 >&2', 'sh'], maxOutput: '100' });
    expect(ret.state).toBe(State.COMPLETE);
    expect(ret.stdout).toBe('');
    expect(ret.stderr).toMatch(/^\[… \d+ bytes truncated …\]\n/);
    expect((ret.stderr as string).endsWith('4999\n5000\n')).toBe(true);
  });

  it('keeps output whole below the cap', async () => {
    const ret = await run({ cmd: 'seq', args: ['1', '3'], maxOutput: 6 });
    expect(ret.stdout).toBe('1\n2\n3\n');
  });
});

describe('shell-command: environment and working directory', () => {
  it('merges env over the Job Runner environment', async () => {
    const ret = await run({ cmd: '/usr/bin/env', env: { SC_TEST_VAR: 'x y=z', HOME: '/nowhere' } });
    expect(ret.state).toBe(State.COMPLETE);
    const lines = (ret.stdout as string).split('\n');
    expect(lines).toContain('SC_TEST_VAR=x y=z');
    expect(lines).toContain('HOME=/nowhere');
    expect(lines).toContain(`PATH=${process.env.PATH}`);
  });

  it('runs in cwd', async () => {
    const ret = await run({ cmd: 'pwd', cwd: tmp });
    expect(ret).toMatchObject({ state: State.COMPLETE, stdout: `${tmp}\n` });
  });

  it('a missing cwd is FAIL naming the directory', async () => {
    const dir = join(tmp, 'gone');
    const ret = await run({ cmd: 'pwd', cwd: dir });
    expect(ret.state).toBe(State.FAIL);
    expect(ret.error).toContain(dir);
    expect(ret.error).toContain('ENOENT');
  });
});

describe('shell-command: start failures', () => {
  it('an unknown command is FAIL (exit 127) with the spawn error text', async () => {
    const ret = await run({ cmd: 'no-such-command-spincycle' });
    expect(ret.state).toBe(State.FAIL);
    expect(ret.exit).toBe(127);
    expect(ret.error).toBe('cannot run no-such-command-spincycle: spawn no-such-command-spincycle ENOENT');
  });

  it('a file that is not executable is FAIL (exit 126)', async () => {
    const file = join(tmp, 'not-executable');
    await writeFile(file, 'echo hi\n');
    await chmod(file, 0o644);
    const ret = await run({ cmd: file });
    expect(ret.state).toBe(State.FAIL);
    expect(ret.exit).toBe(126);
    expect(ret.error).toContain('EACCES');
  });
});

describe('shell-command: timeout', () => {
  it('kills the command and fails with "timed out after …"', async () => {
    const t0 = performance.now();
    const ret = await run({ cmd: 'sleep', args: '10', timeout: '200ms' });
    const took = performance.now() - t0;
    expect(ret.state).toBe(State.FAIL);
    expect(ret.error).toBe('timed out after 200ms (killed by signal SIGTERM)');
    expect(ret.exit).toBe(143);
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
  });

  it('takes a timeout in milliseconds as a number', async () => {
    const ret = await run({ cmd: 'sleep', args: '10', timeout: 150 });
    expect(ret.error).toMatch(/^timed out after 150ms/);
  });

  it('does not fire when the command is quicker', async () => {
    const ret = await run({ cmd: 'sleep', args: '0.05', timeout: '5s' });
    expect(ret.state).toBe(State.COMPLETE);
  });
});

describe('shell-command: stop and status', () => {
  it('stop terminates the process, run returns STOPPED and the process is gone', async () => {
    const job = await viaWire('shell-command', { cmd: 'sleep', args: ['30'] });
    expect(job.status()).toBe('not started: sleep 30');
    const t0 = performance.now();
    const running = job.run({});
    const pid = await runningPid(job);
    expect(isAlive(pid)).toBe(true);
    expect(job.status()).toMatch(new RegExp(`^running sleep 30 \\(pid ${pid}\\) for \\d+ms$`));
    job.stop();
    job.stop(); // idempotent
    const ret = await running;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(ret).toMatchObject({
      state: State.STOPPED,
      exit: 143,
      error: 'stopped (killed by signal SIGTERM)',
    });
    expect(isAlive(pid)).toBe(false);
    expect(job.status()).toMatch(new RegExp(`^sleep 30 \\(pid ${pid}\\) killed by SIGTERM after \\d+ms$`));
  });

  it('stop reaches what the command started (its process group)', async () => {
    const pidFile = join(tmp, 'child.pid');
    const job = await viaWire('shell-command', {
      cmd: '/bin/sh',
      args: ['-c', 'sleep 30 & echo $! > "$0"; wait', pidFile],
    });
    const running = job.run({});
    await until(async () => (await readFile(pidFile, 'utf8').catch(() => '')).endsWith('\n'));
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    expect(isAlive(grandchild)).toBe(true);
    job.stop();
    expect((await running).state).toBe(State.STOPPED);
    await until(() => !isAlive(grandchild), 2000);
  });

  it('a command that ignores SIGTERM gets SIGKILL after the grace period', async () => {
    const ready = join(tmp, 'ready');
    const job = await viaWire('shell-command', {
      cmd: '/bin/sh',
      args: ['-c', 'trap "" TERM; touch "$0"; while :; do sleep 1; done', ready],
      killGrace: '300ms',
    });
    const running = job.run({});
    await until(async () => !!(await stat(ready).catch(() => undefined)));
    const pid = await runningPid(job);
    const t0 = performance.now();
    job.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(job.status()).toMatch(/^stopping /);
    expect(isAlive(pid)).toBe(true);
    const ret = await running;
    const took = performance.now() - t0;
    expect(ret).toMatchObject({
      state: State.STOPPED,
      exit: 137,
      error: 'stopped (killed by signal SIGKILL)',
    });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2000);
    expect(isAlive(pid)).toBe(false);
  });

  it('run can be called again on the same job (JR retries), and stop still works', async () => {
    const marker = join(tmp, 'tried-once');
    const job = await viaWire('shell-command', {
      cmd: '/bin/sh',
      args: ['-c', 'test -e "$0" || { touch "$0"; exit 4; }; sleep 30', marker],
    });
    expect(await job.run({})).toMatchObject({ state: State.FAIL, exit: 4 });
    const running = job.run({});
    const pid = await runningPid(job);
    job.stop();
    expect((await running).state).toBe(State.STOPPED);
    expect(isAlive(pid)).toBe(false);
  });

  it('stop before run returns STOPPED without starting anything', async () => {
    const job = await viaWire('shell-command', { cmd: 'sleep', args: '30' });
    job.stop();
    const ret = await job.run({});
    expect(ret.state).toBe(State.STOPPED);
    expect(job.status()).toBe('stopped before start: sleep 30');
  });

  it('shows the finished command in status', async () => {
    const job = await viaWire('shell-command', { cmd: '/bin/echo', args: ['two words'] });
    await job.run({});
    expect(job.status()).toMatch(/^\/bin\/echo "two words" \(pid \d+\) exited 0 after \d+ms$/);
  });
});

describe('shell-command: args in create (RM side)', () => {
  it('serializes the validated, normalized args', async () => {
    const job = make('shell-command');
    await job.create({ cmd: 'ls', args: ['-l', '/tmp'], timeout: '30s', cwd: '/', env: { A: 'b' } });
    expect(JSON.parse(new TextDecoder().decode(await job.serialize()))).toEqual({
      cmd: 'ls',
      args: ['-l', '/tmp'],
      timeout: 30000,
      cwd: '/',
      env: { A: 'b' },
      maxOutput: 65536,
      killGrace: 5000,
    });
  });

  it('treats empty optional args as not given', async () => {
    const job = make('shell-command');
    await job.create({ cmd: 'ls', args: '', timeout: '', cwd: null, env: undefined });
    expect(JSON.parse(new TextDecoder().decode(await job.serialize()))).toEqual({
      cmd: 'ls',
      args: [],
      maxOutput: 65536,
      killGrace: 5000,
    });
  });

  it('rejects bad args with a 400 error naming the arg', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{}, 'cmd', 'arg cmd: must be a non-empty string (it is missing)'],
      [{ cmd: '' }, 'cmd', 'arg cmd: must be a non-empty string, got ""'],
      [{ cmd: ['ls'] }, 'cmd', 'arg cmd: must be a non-empty string, got ["ls"]'],
      [{ cmd: 'ls', args: 5 }, 'args', 'arg args: must be a string (one entry) or a list of strings, got 5'],
      [{ cmd: 'ls', args: ['-l', 3] }, 'args[1]', 'arg args[1]: must be a string, got 3'],
      [{ cmd: 'ls', timeout: 'soon' }, 'timeout', 'got "soon"'],
      [{ cmd: 'ls', timeout: -1 }, 'timeout', 'got -1'],
      [{ cmd: 'ls', cwd: 7 }, 'cwd', 'arg cwd: must be a string, got 7'],
      [{ cmd: 'ls', env: 'A=b' }, 'env', 'arg env: must be an object of strings, got "A=b"'],
      [{ cmd: 'ls', env: { A: 1 } }, 'env.A', 'arg env.A: must be a string, got 1'],
      [{ cmd: 'ls', env: { 'A=B': 'x' } }, 'env.A=B', 'has an invalid variable name'],
      [{ cmd: 'ls', maxOutput: -1 }, 'maxOutput', 'must be a non-negative integer'],
      [{ cmd: 'ls', killGrace: 'later' }, 'killGrace', 'got "later"'],
      [{ cmd: 'a\0b' }, 'cmd', 'must not contain NUL'],
    ];
    for (const [args, arg, text] of cases) {
      let err: unknown;
      try {
        await make('shell-command').create(args);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(args)).toBeInstanceOf(JobArgError);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as JobArgError).httpStatus).toBe(400);
      expect((err as JobArgError).arg).toBe(arg);
      expect((err as Error).message).toContain(text);
    }
  });

  it('run fails, without throwing, on bytes that are not from create', async () => {
    const job = make('shell-command');
    job.deserialize(new Uint8Array(0));
    const ret = await job.run({});
    expect(ret.state).toBe(State.FAIL);
    expect(ret.error).toMatch(/no cmd/);
  });
});
