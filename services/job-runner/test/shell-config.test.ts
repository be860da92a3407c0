/** `jobs.shell_default_timeout` and `jobs.shell_env_allowlist` reach the JR's built-in shell-command jobs. */
import type { JobArgs, JobFactory } from '@spincycle/jobs';
import { State } from '@spincycle/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { loadJobs } from '../src/app.js';
import { loadJrConfig } from '../src/config.js';

/** A shell-command job as the JR gets it: made and created (RM side), then serialized and restored. */
async function shellJob(factory: JobFactory, args: JobArgs) {
  const id = { type: 'shell-command', name: 'n', id: 'j1', requestId: 'r1' };
  const rmJob = factory.make(id);
  await rmJob.create(args);
  const jrJob = factory.make({ ...id });
  await jrJob.deserialize(Uint8Array.from(await rmJob.serialize()));
  return jrJob;
}

describe('JR shell-command config', () => {
  afterEach(() => {
    delete process.env.JRT_SHELL_ALLOWED;
    delete process.env.JRT_SHELL_SECRET;
  });

  it('defaults: a one-hour timeout and the whole JR environment', async () => {
    const config = loadJrConfig([], {});
    expect(config.shellCommand).toEqual({ defaultTimeout: 3_600_000, envAllowlist: undefined });
    process.env.JRT_SHELL_SECRET = 'hunter2';
    const job = await shellJob(await loadJobs(config, process.cwd()), { cmd: 'env' });
    expect(String((await job.run({})).stdout)).toContain('JRT_SHELL_SECRET=hunter2');
  });

  it('jobs.shell_env_allowlist withholds every other JR variable', async () => {
    const config = loadJrConfig([], { SPINCYCLE_JOBS_SHELL_ENV_ALLOWLIST: 'JRT_SHELL_ALLOWED,PATH' });
    expect(config.shellCommand.envAllowlist).toEqual(['JRT_SHELL_ALLOWED', 'PATH']);
    process.env.JRT_SHELL_ALLOWED = 'visible';
    process.env.JRT_SHELL_SECRET = 'hunter2';
    const job = await shellJob(await loadJobs(config, process.cwd()), { cmd: 'env' });
    const ret = await job.run({});
    expect(ret.state).toBe(State.COMPLETE);
    expect(String(ret.stdout).trim().split('\n').sort()).toEqual([
      'JRT_SHELL_ALLOWED=visible',
      `PATH=${process.env.PATH}`,
    ]);
  });

  it('jobs.shell_default_timeout kills a command whose args set no timeout', async () => {
    const config = loadJrConfig([], {}, { 'jobs.shell_default_timeout': '150ms' });
    expect(config.shellCommand.defaultTimeout).toBe(150);
    const job = await shellJob(await loadJobs(config, process.cwd()), { cmd: 'sleep', args: '10' });
    expect(await job.run({})).toMatchObject({
      state: State.FAIL,
      error: 'timed out after 150ms (killed by signal SIGTERM)',
    });
  });
});
