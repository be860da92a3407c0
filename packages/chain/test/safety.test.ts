/** Arg patterns, secret args, the job limit, and the example decommission-hosts spec refusing unsafe hosts. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinJobFactory } from '@spincycle/jobs';
import { BadRequestError } from '@spincycle/protocol';
import { loadSpecs } from '@spincycle/spec';
import { describe, expect, it } from 'vitest';
import {
  ArgPatternError,
  buildJobChain,
  DEFAULT_MAX_JOBS,
  requestSequence,
  secretArgNames,
  TooManyJobsError,
} from '../src/index.js';
import { failure, fixture, jobNamed, testFactory } from './helpers.js';

const REPO_SPECS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../specs');

async function login(args: Record<string, unknown>) {
  const specs = await fixture('arg-safety');
  return buildJobChain({ specs, type: 'login', args, factory: testFactory({ x: {} }) });
}

describe('arg patterns', () => {
  it('a caller-given value must match its pattern in full', async () => {
    const { chain } = await login({ host: 'web-1', token: 't', ports: ['22', '8080'] });
    expect(jobNamed(chain, 'j').args).toMatchObject({ host: 'web-1', ports: ['22', '8080'] });

    for (const host of ['../../x', 'web-1 ', 'Web-1', 'web-1\nrm', '-rf', '']) {
      const err = await failure(login({ host, token: 't' }));
      expect(err).toBeInstanceOf(ArgPatternError);
      expect(err).toBeInstanceOf(BadRequestError);
      expect(err).toMatchObject({ code: 'arg_pattern', requestType: 'login', arg: 'host' });
      expect(err.message).toBe(
        `request login: arg 'host' does not match its pattern "[a-z0-9]+(-[a-z0-9]+)*"`,
      );
    }
  });

  it('every element of a list must match; numbers are matched as text', async () => {
    const err = await failure(login({ host: 'a', token: 't', ports: ['22', '22;ls'] }));
    expect(err).toMatchObject({ code: 'arg_pattern', arg: 'ports' });
    const { chain } = await login({ host: 'a', token: 't', ports: 443 });
    expect(jobNamed(chain, 'j').args).toMatchObject({ ports: 443 });
    expect((await failure(login({ host: 'a', token: 't', ports: 123456 }))).message).toContain("'ports'");
  });

  it('defaults are not checked, only caller-given values', async () => {
    const { chain } = await login({ host: 'a', token: 't' });
    expect(jobNamed(chain, 'j').args).toMatchObject({ mode: 'not matched by the pattern' });
    const err = await failure(login({ host: 'a', token: 't', mode: 'medium' }));
    expect(err).toMatchObject({ code: 'arg_pattern', arg: 'mode' });
  });
});

describe('secret args', () => {
  it('secretArgNames lists the args declared secret: true, all kinds, in order', async () => {
    const specs = await fixture('arg-safety');
    expect(secretArgNames(requestSequence(specs, 'login'))).toEqual(['token', 'salt']);
  });

  it('the built chain carries the same list', async () => {
    const built = await login({ host: 'a', token: 'hunter2' });
    expect(built.secretArgs).toEqual(['token', 'salt']);
    const withSecrets = built.requestArgs.filter((a) => built.secretArgs.includes(a.Name));
    expect(withSecrets.map((a) => a.Value)).toEqual(['hunter2', 's3cr3t']);
  });
});

describe('the job limit (maxJobs)', () => {
  const hosts = (n: number) => Array.from({ length: n }, (_, i) => `host-${i}`).join(',');

  it('defaults to 100,000', () => {
    expect(DEFAULT_MAX_JOBS).toBe(100_000);
  });

  it('bench-wide with 1,000,000 hosts is refused before any host job is made', async () => {
    const specs = await fixture('bench-wide');
    const factory = testFactory({
      split: (a) => {
        a.output = String(a.input).split(',');
      },
    });
    const err = await failure(
      buildJobChain({ specs, type: 'bench-wide', args: { hosts: hosts(1_000_000) }, factory }),
    );
    expect(err).toBeInstanceOf(TooManyJobsError);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({
      code: 'too_many_jobs',
      requestType: 'bench-wide',
      arg: 'hostList',
      maxJobs: 100_000,
      count: 1_000_000,
    });
    expect(err.message).toBe(
      "request bench-wide: in seq bench-wide, node per-host: 'each:' over arg hostList (1000000 elements) makes more than 100000 jobs (the limit)",
    );
    // Stopped before the expansion: only the jobs ahead of it were made.
    expect(factory.made.length).toBeLessThan(10);
  });

  it('stops at the limit when the expansion fits but its jobs do not', async () => {
    const specs = await fixture('bench-wide');
    const err = await failure(
      buildJobChain({
        specs,
        type: 'bench-wide',
        args: { hosts: hosts(20) },
        factory: builtinJobFactory,
        maxJobs: 50,
      }),
    );
    expect(err).toMatchObject({ code: 'too_many_jobs', arg: 'hostList', maxJobs: 50, count: 20 });
    expect(err.message).toContain("'each:' over arg hostList (20 elements) makes more than 50 jobs");
  });

  it('a chain of exactly maxJobs jobs builds', async () => {
    const specs = await fixture('bench-wide');
    const args = { hosts: hosts(20) };
    const { chain } = await buildJobChain({ specs, type: 'bench-wide', args, factory: builtinJobFactory });
    const size = Object.keys(chain.jobs).length;
    const again = await buildJobChain({
      specs,
      type: 'bench-wide',
      args,
      factory: builtinJobFactory,
      maxJobs: size,
    });
    expect(Object.keys(again.chain.jobs)).toHaveLength(size);
    await expect(
      buildJobChain({ specs, type: 'bench-wide', args, factory: builtinJobFactory, maxJobs: size - 1 }),
    ).rejects.toBeInstanceOf(TooManyJobsError);
  });
});

describe('specs/decommission-hosts.yaml', () => {
  async function decommission(hostsArg: string) {
    const { specs, diagnostics } = await loadSpecs(REPO_SPECS);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return buildJobChain({
      specs,
      type: 'decommission-hosts',
      args: { hosts: hostsArg },
      factory: builtinJobFactory,
    });
  }

  it('refuses a host that would touch files outside the archive directory', async () => {
    for (const bad of ['../../x', 'web-1,../../x', '/etc/passwd', '-r', 'a b', '..', 'x/..']) {
      const err = await failure(decommission(bad));
      expect(err, bad).toBeInstanceOf(ArgPatternError);
      expect(err).toMatchObject({ requestType: 'decommission-hosts', arg: 'hosts' });
      expect(err.message).toMatch(/^request decommission-hosts: arg 'hosts' does not match its pattern/);
    }
  });

  it('builds for host names, one archive job per host, each host one argv entry', async () => {
    const { chain } = await decommission('web-1, db-2.example.com');
    const archives = Object.values(chain.jobs).filter((j) => j.name === 'archive');
    expect(archives.map((j) => j.args?.args).sort()).toEqual(['db-2.example.com', 'web-1']);
  });
});
