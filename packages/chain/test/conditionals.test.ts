/** destroy-conditional (a fixture shared with the original's tests), the built-in `noop` sequence, empty-cluster, bad-each, opt-args. */
import { BadRequestError } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { buildJobChain, ChainBuildError, JobFactoryError } from '../src/index.js';
import { failure, fixture, jobList, jobNamed, linearNames, testFactory } from './helpers.js';

const destroyTypes = {
  'prep-job-2': {},
  'cleanup-job-2': {},
  'destroy-step-1': (args: Record<string, unknown>) => {
    args.physicalhost = `ph-${args.container}`;
  },
  'destroy-step-2': {},
};

async function build(type: string, args: Record<string, unknown>) {
  const specs = await fixture('destroy-conditional');
  return buildJobChain({ specs, type, args, factory: testFactory(destroyTypes) });
}

/** The `destroy-container` conditional taking its `lxc` branch (the static containerType), as built. */
const DESTROY_CONTAINER_LXC = [
  'conditional_destroy-container_begin',
  'destroy-lxc_begin',
  'destroy-1',
  'destroy-2',
  'destroy-lxc_end',
  'conditional_destroy-container_end',
];

/** The `destroy-conditional` sequence (prep, the lxc branch, cleanup), as built. */
const DESTROY_CONDITIONAL = [
  'destroy-conditional_begin',
  'prep-1',
  ...DESTROY_CONTAINER_LXC,
  'cleanup-job',
  'destroy-conditional_end',
];

describe('destroy-conditional', () => {
  it('follows the branch chosen by a static arg', async () => {
    const { chain } = await build('destroy-conditional', { container: 'ct', env: 'testing' });
    expect(linearNames(chain)).toEqual([
      'request_destroy-conditional_begin',
      ...DESTROY_CONDITIONAL,
      'request_destroy-conditional_end',
    ]);
    const cond = jobNamed(chain, 'conditional_destroy-container_begin');
    expect(cond.sequenceId).toBe(cond.id);
    expect(jobNamed(chain, 'destroy-2').sequenceId).toBe(cond.id);
    expect(jobNamed(chain, 'destroy-2').args).toEqual({ dstAddr: 'ph-ct' });
    expect(jobNamed(chain, 'cleanup-job').sequenceId).toBe(
      jobNamed(chain, 'request_destroy-conditional_begin').id,
    );
  });

  it('double-conditional: a branch naming `noop` builds an empty sequence', async () => {
    const { chain } = await build('double-conditional', { container: 'ct', env: 'staging' });
    expect(linearNames(chain)).toEqual([
      'request_double-conditional_begin',
      'double-conditional_begin',
      'prep-1',
      'conditional_archive-container_begin',
      'conditional_archive-container_end',
      ...DESTROY_CONTAINER_LXC,
      'cleanup-job',
      'double-conditional_end',
      'request_double-conditional_end',
    ]);
    const noopStart = jobNamed(chain, 'conditional_archive-container_begin');
    expect(jobNamed(chain, 'conditional_archive-container_end').sequenceId).toBe(noopStart.id);
  });

  it('double-conditional: the other branch runs the archive sequence', async () => {
    const { chain } = await build('double-conditional', { container: 'ct', env: 'testing' });
    expect(linearNames(chain).slice(3, 9)).toEqual([
      'conditional_archive-container_begin',
      'archive_begin',
      'archive-1',
      'archive-2',
      'archive_end',
      'conditional_archive-container_end',
    ]);
  });

  it('conditional-in-conditional: nests invocations and their sequence ids', async () => {
    const { chain } = await build('conditional-in-conditional', { container: 'ct', env: 'testing' });
    const names = linearNames(chain);
    expect(names).toEqual([
      'request_conditional-in-conditional_begin',
      'conditional-in-conditional_begin',
      'prep-outer',
      'conditional_handle-container_begin',
      ...DESTROY_CONDITIONAL,
      'conditional_handle-container_end',
      'cleanup-job-outer',
      'conditional-in-conditional_end',
      'request_conditional-in-conditional_end',
    ]);
    const outer = jobNamed(chain, 'conditional_handle-container_begin');
    const inner = jobNamed(chain, 'conditional_destroy-container_begin');
    expect(jobNamed(chain, 'prep-1').sequenceId).toBe(outer.id);
    expect(jobNamed(chain, 'cleanup-job').sequenceId).toBe(outer.id);
    expect(inner.sequenceId).toBe(inner.id);
    expect(jobNamed(chain, 'destroy-1').sequenceId).toBe(inner.id);
    // prep-1 receives env from the outer conditional's inputs.
    expect(jobNamed(chain, 'prep-1').args).toEqual({ container: 'ct', env: 'testing' });
  });

  it('conditional-default: no match falls back to `default`', async () => {
    const { chain } = await build('conditional-default', { container: 'ct', env: 'x' });
    expect(linearNames(chain).slice(3, 8)).toEqual([
      'conditional_destroy-container_begin',
      'destroy-docker_begin',
      'destroy-1',
      'destroy-docker_end',
      'conditional_destroy-container_end',
    ]);
  });

  it('no-default-fail: no match and no default is a 400 naming the node, arg and options', async () => {
    const err = await build('no-default-fail', { container: 'ct', env: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChainBuildError);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as ChainBuildError).httpStatus).toBe(400);
    expect((err as Error).message).toBe(
      "in seq no-default-fail, node destroy-container: 'if: containerType' value 'docker' does not match any options: lxc, vm",
    );
    expect(err).toMatchObject({
      requestType: 'no-default-fail',
      sequence: 'no-default-fail',
      node: 'destroy-container',
      arg: 'containerType',
    });
  });

  it('double-conditional: an env value with no branch fails', async () => {
    await expect(build('double-conditional', { container: 'ct', env: 'prod' })).rejects.toThrow(
      "in seq double-conditional, node archive-container: 'if: env' value 'prod' does not match any options: staging, testing",
    );
  });
});

describe('the built-in noop sequence; noop jobs come from the factory', () => {
  it('a user-defined `noop` sequence takes precedence', async () => {
    const specs = await fixture('noop-seq');
    const { chain } = await buildJobChain({
      specs,
      type: 'pick',
      args: { which: 'none' },
      factory: testFactory({}),
    });
    expect(linearNames(chain)).toEqual([
      'request_pick_begin',
      'pick_begin',
      'conditional_c_begin',
      'noop_begin',
      'mine',
      'noop_end',
      'conditional_c_end',
      'pick_end',
      'request_pick_end',
    ]);
  });

  it('the builder trusts its factory: one that does not make `noop` is a server fault (500)', async () => {
    const specs = await fixture('destroy-conditional');
    const factory = testFactory(destroyTypes, false);
    const err = await failure(
      buildJobChain({
        specs,
        type: 'double-conditional',
        args: { container: 'ct', env: 'staging' },
        factory,
      }),
    );
    expect(err).toBeInstanceOf(JobFactoryError);
    expect((err as JobFactoryError).message).toBe(
      "cannot build job: Error making 'noop request_double-conditional_begin' job: unknown job type: noop",
    );
    expect(err).not.toBeInstanceOf(BadRequestError);
  });

  it("a user factory's own `noop` takes precedence (its bytes are kept)", async () => {
    const specs = await fixture('a-b-c');
    const factory = testFactory({
      noop: { bytes: new Uint8Array([1, 2, 3]) },
      aJobType: {
        create: (a) => {
          a.aArg = 1;
        },
        bytes: () => new Uint8Array([0xff]),
      },
      bJobType: {},
      cJobType: {},
    });
    const { chain } = await buildJobChain({ specs, type: 'three-nodes', args: { foo: 'f' }, factory });
    expect(jobNamed(chain, 'three-nodes_begin').bytes).toBe('AQID');
    expect(jobNamed(chain, 'request_three-nodes_end').bytes).toBe('AQID');
    expect(jobNamed(chain, 'a').bytes).toBe('/w==');
    expect('bytes' in jobNamed(chain, 'b')).toBe(false);
  });
});

/** Builds `empty-cluster-test`, its get-cluster-instances job setting `instances`. */
async function buildEmptyCluster(instances: string[]) {
  const specs = await fixture('empty-cluster');
  const factory = testFactory({
    'get-cluster-instances': (a) => {
      a.instances = structuredClone(instances);
    },
    'cleanup-job': {},
    'delete-step': {},
  });
  return buildJobChain({ specs, type: 'empty-cluster-test', args: { cluster: 'c' }, factory });
}

/** Builds `bad-each` (each over instances and hosts), its get-cluster-instances job setting both lists. */
async function buildBadEach(instances: unknown, hosts: unknown) {
  const specs = await fixture('bad-each');
  const factory = testFactory({
    'get-cluster-instances': (a) => {
      a.instances = structuredClone(instances);
      a.hosts = structuredClone(hosts);
    },
    'check-ok-1': {},
  });
  return buildJobChain({ specs, type: 'bad-each', args: { cluster: 'c' }, factory });
}

describe('each', () => {
  it('empty-cluster: an empty list builds a noop placeholder', async () => {
    const { chain } = await buildEmptyCluster([]);
    expect(linearNames(chain)).toEqual([
      'request_empty-cluster-test_begin',
      'empty-cluster-test_begin',
      'get-instances',
      'noop_delete-instances_begin',
      'noop_delete-instances_end',
      'done',
      'empty-cluster-test_end',
      'request_empty-cluster-test_end',
    ]);
    const top = jobNamed(chain, 'request_empty-cluster-test_begin');
    expect(jobNamed(chain, 'noop_delete-instances_begin').sequenceId).toBe(top.id);
  });

  it('empty-cluster: one element builds the single expansion without repeat wrappers', async () => {
    const { chain } = await buildEmptyCluster(['only']);
    expect(linearNames(chain).slice(2, 9)).toEqual([
      'get-instances',
      'sequence_delete-instances_begin',
      'delete-instance_begin',
      'delete',
      'delete-instance_end',
      'sequence_delete-instances_end',
      'done',
    ]);
    expect(jobNamed(chain, 'delete').args).toEqual({ instance: 'only' });
  });

  it('bad-each: a list arg that is a string fails with a 400 naming node and arg', async () => {
    const err = await buildBadEach('i1,i2', ['h1', 'h2']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChainBuildError);
    expect((err as Error).message).toBe(
      "in seq bad-each, node per-instance: invalid 'each:' each:[instances:instance hosts:host]: arg instances is a string, expected a list",
    );
    expect(err).toMatchObject({ node: 'per-instance', arg: 'instances', httpStatus: 400 });
  });

  it('bad-each: lists of different lengths fail', async () => {
    await expect(buildBadEach(['i1', 'i2'], ['h1'])).rejects.toThrow(
      "in seq bad-each, node per-instance: invalid 'each:' each:[instances:instance hosts:host]: each lists have different lengths (instances has 2, hosts has 1)",
    );
  });

  it('bad-each: equal-length lists are zipped, not crossed', async () => {
    const { chain } = await buildBadEach(['i1', 'i2', 'i3'], ['h1', 'h2', 'h3']);
    const checks = jobList(chain).filter((j) => j.name === 'check');
    expect(checks.map((j) => j.args)).toEqual([
      { instance: 'i1', host: 'h1' },
      { instance: 'i2', host: 'h2' },
      { instance: 'i3', host: 'h3' },
    ]);
  });

  it('a list arg that is an object or missing fails', async () => {
    await expect(buildBadEach({ a: 1 }, [])).rejects.toThrow('arg instances is a map, expected a list');
    const unset = await buildJobChain({
      specs: await fixture('bad-each'),
      type: 'each-unset',
      args: {},
      factory: testFactory({}),
    }).catch((e: unknown) => e);
    expect(unset).toBeInstanceOf(ChainBuildError);
    expect((unset as Error).message).toBe(
      "in seq each-unset, node per-thing: invalid 'each:' each:[things:thing]: arg things not set",
    );
  });
});

describe('opt-args', () => {
  it('an optional arg with an empty default reaches create as ""', async () => {
    const specs = await fixture('opt-args');
    const factory = testFactory({ 'shell-cmd': {} });
    const { chain, requestArgs } = await buildJobChain({ specs, type: 'req', args: { cmd: 'ls' }, factory });
    const run = jobNamed(chain, 'run');
    expect(factory.createdWith.get(run.id)).toEqual({ cmd: 'ls', args: '' });
    expect(run.args).toEqual({ cmd: 'ls', args: '' });
    expect(requestArgs[1]).toEqual({
      Pos: 0,
      Name: 'args',
      Desc: '',
      Type: 'optional',
      Given: false,
      Default: '',
      Value: '',
    });
  });
});
