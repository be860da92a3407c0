/** shell-command: no processes left behind, the default timeout, the environment allowlist. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createBuiltinJobFactory, DEFAULT_SHELL_TIMEOUT_MS } from '../src/builtin/index.js';
import { isAlive, until, viaWire } from './helpers.js';

/** The pid a command printed as its first stdout line. */
function printedPid(stdout: unknown): number {
  const pid = Number(String(stdout).split('\n')[0]);
  expect(pid).toBeGreaterThan(0);
  return pid;
}

/** Kills a test process that is still there (so a failing test leaves nothing behind). */
const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone, as it should be */
    }
  }
});

describe('shell-command: the whole process group goes, even after its leader exited', () => {
  it('a background grandchild left by a command that exits 0 is terminated', async () => {
    const job = await viaWire('shell-command', {
      cmd: '/bin/sh',
      args: ['-c', 'sleep 30 & echo $!; exit 0'],
    });
    const ret = await job.run({});
    expect(ret.state).toBe(State.COMPLETE);
    const grandchild = printedPid(ret.stdout);
    leftovers.push(grandchild);
    await until(() => !isAlive(grandchild), 3000);
  });

  it('timeout: a grandchild that ignores SIGTERM gets SIGKILL after the leader has exited', async () => {
    const job = await viaWire('shell-command', {
      cmd: '/bin/sh',
      // The subshell ignores TERM and execs sleep, which inherits that; the leader itself dies on TERM.
      args: ['-c', '(trap "" TERM; exec sleep 30) & echo $!; wait'],
      timeout: '200ms',
      killGrace: '300ms',
    });
    const ret = await job.run({});
    expect(ret).toMatchObject({
      state: State.FAIL,
      error: 'timed out after 200ms (killed by signal SIGTERM)',
    });
    const grandchild = printedPid(ret.stdout);
    leftovers.push(grandchild);
    // The leader is gone, the grandchild survived SIGTERM; SIGKILL follows after killGrace.
    await until(() => !isAlive(grandchild), 3000);
  });

  it('stop: the same, for a grandchild that ignores SIGTERM', async () => {
    // The stop must come once the grandchild ignores TERM and its pid is printed (a stop
    // sent as soon as the job runs would kill the shell before it started anything): the
    // grandchild touches `ready` after its trap, the shell writes `pid` after printing it.
    const dir = mkdtempSync(join(tmpdir(), 'shell-stop-'));
    const job = await viaWire('shell-command', {
      cmd: '/bin/sh',
      args: [
        '-c',
        '(trap "" TERM; : > "$1/ready"; exec sleep 30) & echo $!; echo $! > "$1/pid"; wait',
        'sh',
        dir,
      ],
      killGrace: '300ms',
    });
    const running = job.run({});
    const pidFile = join(dir, 'pid');
    await until(
      () =>
        existsSync(join(dir, 'ready')) && existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'),
    );
    job.stop();
    const ret = await running;
    expect(ret.state).toBe(State.STOPPED);
    const grandchild = printedPid(ret.stdout);
    leftovers.push(grandchild);
    await until(() => !isAlive(grandchild), 3000);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('shell-command: default timeout', () => {
  it('is one hour unless the factory options say otherwise', () => {
    expect(DEFAULT_SHELL_TIMEOUT_MS).toBe(3_600_000);
  });

  it('applies to a command whose args set no timeout', async () => {
    const factory = createBuiltinJobFactory({ shellCommand: { defaultTimeout: 150 } });
    const job = await viaWire('shell-command', { cmd: 'sleep', args: '10' }, factory);
    const ret = await job.run({});
    expect(ret).toMatchObject({
      state: State.FAIL,
      error: 'timed out after 150ms (killed by signal SIGTERM)',
    });
  });

  it("the job's own timeout wins; 0 means no limit", async () => {
    const factory = createBuiltinJobFactory({ shellCommand: { defaultTimeout: 50 } });
    const job = await viaWire('shell-command', { cmd: 'sleep', args: '0.3', timeout: 0 }, factory);
    expect((await job.run({})).state).toBe(State.COMPLETE);
  });

  it('is resolved where the job runs (the JR), not stored in the bytes', async () => {
    const rm = createBuiltinJobFactory({ shellCommand: { defaultTimeout: 60_000 } });
    const rmJob = rm.make({ type: 'shell-command', name: 'n', id: 'i', requestId: 'r' });
    await rmJob.create({ cmd: 'sleep', args: '10' });
    const bytes = await rmJob.serialize();
    const jr = createBuiltinJobFactory({ shellCommand: { defaultTimeout: 100 } });
    const jrJob = jr.make({ type: 'shell-command', name: 'n', id: 'i', requestId: 'r' });
    await jrJob.deserialize(Uint8Array.from(bytes));
    expect((await jrJob.run({})).error).toBe('timed out after 100ms (killed by signal SIGTERM)');
  });
});

describe('shell-command: environment allowlist', () => {
  afterEach(() => {
    delete process.env.SC_ALLOWED;
    delete process.env.SC_SECRET_TOKEN;
  });

  it('passes only the listed variables of the JR, plus the job env', async () => {
    process.env.SC_ALLOWED = 'visible';
    process.env.SC_SECRET_TOKEN = 'hunter2';
    const factory = createBuiltinJobFactory({
      shellCommand: { envAllowlist: ['SC_ALLOWED', 'PATH', 'NOT_SET_ANYWHERE'] },
    });
    const job = await viaWire('shell-command', { cmd: 'env', env: { FROM_JOB: 'x' } }, factory);
    const ret = await job.run({});
    expect(ret.state).toBe(State.COMPLETE);
    const vars = String(ret.stdout).trim().split('\n').sort();
    expect(vars).toEqual(['FROM_JOB=x', `PATH=${process.env.PATH}`, 'SC_ALLOWED=visible']);
  });

  it('without a list the whole environment is passed', async () => {
    process.env.SC_SECRET_TOKEN = 'hunter2';
    const job = await viaWire('shell-command', { cmd: 'env' });
    expect(String((await job.run({})).stdout)).toContain('SC_SECRET_TOKEN=hunter2');
  });
});
