/** The fixtures shared with the original's tests and its worked examples of built chains. */
import { State } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { buildJobChain } from '../src/index.js';
import {
  fixture,
  jobList,
  jobNamed,
  jobsNamed,
  layers,
  linearNames,
  predecessors,
  successors,
  testFactory,
} from './helpers.js';

const setsAArg = {
  aJobType: (args: Record<string, unknown>) => {
    args.aArg = 'a-was-here';
  },
  bJobType: {},
  cJobType: {},
};

describe('three-nodes (worked example 1)', () => {
  it('builds 7 jobs in a line with the exact names, retries, args and sequence ids', async () => {
    const specs = await fixture('a-b-c');
    const { chain, requestArgs, requestId } = await buildJobChain({
      specs,
      type: 'three-nodes',
      args: { foo: 'foo-value' },
      factory: testFactory(setsAArg),
    });
    expect(linearNames(chain)).toEqual([
      'request_three-nodes_begin',
      'three-nodes_begin',
      'a',
      'b',
      'c',
      'three-nodes_end',
      'request_three-nodes_end',
    ]);
    expect(jobList(chain)).toHaveLength(7);
    expect(chain.requestId).toBe(requestId);
    expect(chain.state).toBe(State.PENDING);
    expect(chain.finishedJobs).toBe(0);

    const start = jobNamed(chain, 'request_three-nodes_begin');
    expect(start).toEqual({
      id: start.id,
      name: 'request_three-nodes_begin',
      type: 'noop',
      state: State.PENDING,
      retry: 0,
      sequenceId: start.id,
      sequenceRetry: 0,
      sequenceRetryWait: '0s',
    });
    for (const j of jobList(chain)) {
      expect(j.sequenceId).toBe(start.id);
      expect(j.state).toBe(State.PENDING);
      if (j !== start) {
        expect(j.sequenceRetry).toBe(0);
        expect('sequenceRetryWait' in j).toBe(false);
      }
      expect('bytes' in j).toBe(false);
    }
    const a = jobNamed(chain, 'a');
    expect(a).toMatchObject({ type: 'aJobType', retry: 1, retryWait: '500ms', args: { foo: 'foo-value' } });
    const b = jobNamed(chain, 'b');
    expect(b).toMatchObject({ type: 'bJobType', retry: 3, retryWait: '0s', args: { aArg: 'a-was-here' } });
    const c = jobNamed(chain, 'c');
    expect(c.retry).toBe(0);
    expect('retryWait' in c).toBe(false);
    expect('args' in c).toBe(false);
    for (const n of [
      'request_three-nodes_begin',
      'three-nodes_begin',
      'three-nodes_end',
      'request_three-nodes_end',
    ]) {
      expect('args' in jobNamed(chain, n)).toBe(false);
    }

    expect(requestArgs).toEqual([
      {
        Pos: 0,
        Name: 'foo',
        Desc: 'the foo',
        Type: 'required',
        Given: true,
        Default: null,
        Value: 'foo-value',
      },
      { Pos: 0, Name: 'bar', Desc: 'the bar', Type: 'optional', Given: false, Default: '175', Value: '175' },
    ]);
  });

  it('records the pre-create snapshot, not what create changed', async () => {
    const specs = await fixture('a-b-c');
    const factory = testFactory({
      aJobType: (args) => {
        args.aArg = 1;
        args.foo = 'changed by a';
      },
      bJobType: {},
      cJobType: {},
    });
    const { chain } = await buildJobChain({
      specs,
      type: 'three-nodes',
      args: { foo: 'orig', bar: 'x' },
      factory,
    });
    expect(jobNamed(chain, 'a').args).toEqual({ foo: 'orig' });
  });

  it('fails when job a does not set aArg (declared in sets)', async () => {
    const specs = await fixture('a-b-c');
    const factory = testFactory({ aJobType: {}, bJobType: {}, cJobType: {} });
    await expect(buildJobChain({ specs, type: 'three-nodes', args: { foo: 'f' }, factory })).rejects.toThrow(
      'in seq three-nodes, node a: expected aJobType to set aArg in jobargs',
    );
  });
});

describe('retry-three-nodes (worked example 1)', () => {
  it('builds 11 jobs with the sequence node as a retried sequence start', async () => {
    const specs = await fixture('a-b-c');
    const { chain } = await buildJobChain({
      specs,
      type: 'retry-three-nodes',
      args: { foo: 'f' },
      factory: testFactory(setsAArg),
    });
    const names = linearNames(chain);
    expect(names).toEqual([
      'request_retry-three-nodes_begin',
      'retry-three-nodes_begin',
      'sequence_node_begin',
      'three-nodes_begin',
      'a',
      'b',
      'c',
      'three-nodes_end',
      'sequence_node_end',
      'retry-three-nodes_end',
      'request_retry-three-nodes_end',
    ]);
    const top = jobNamed(chain, 'request_retry-three-nodes_begin');
    const seq = jobNamed(chain, 'sequence_node_begin');
    expect(seq).toMatchObject({
      sequenceRetry: 10,
      sequenceRetryWait: '500ms',
      sequenceId: seq.id,
      retry: 0,
    });
    const inner = new Set(names.slice(2, 9));
    for (const j of jobList(chain)) expect(j.sequenceId).toBe(inner.has(j.name) ? seq.id : top.id);
    // Only declared inputs are passed down; three-nodes fills in its own `bar` default.
    expect(jobNamed(chain, 'a').args).toEqual({ foo: 'f' });
  });
});

describe('cond-args (worked example 2)', () => {
  it('chooses the default branch and allocates ids in the documented order', async () => {
    const specs = await fixture('cond-args');
    const factory = testFactory({ job1: {} });
    const { chain } = await buildJobChain({ specs, type: 'request-name', args: { cmd: 'ls' }, factory });
    const order = factory.made.map((m) => m.name);
    expect(order).toEqual([
      'request_request-name_begin',
      'request_request-name_end',
      'request-name_begin',
      'conditional_job1name_begin',
      'conditional_job1name_end',
      'defaultSeq_begin',
      'job1name',
      'defaultSeq_end',
      'request-name_end',
    ]);
    const id = factory.made.map((m) => m.id); // id[0] = id1, ...
    expect(id.every((x) => chain.jobs[x] !== undefined)).toBe(true);
    const edges = (i: number) => successors(chain, id[i - 1] as string);
    expect(edges(1)).toEqual([id[2]]);
    expect(edges(3)).toEqual([id[3]]);
    expect(edges(4)).toEqual([id[5]]);
    expect(edges(6)).toEqual([id[6]]);
    expect(edges(7)).toEqual([id[7]]);
    expect(edges(8)).toEqual([id[4]]);
    expect(edges(5)).toEqual([id[8]]);
    expect(edges(9)).toEqual([id[1]]);
    expect(edges(2)).toEqual([]);
    expect(Object.keys(chain.adjacencyList)).toHaveLength(8);
    for (const i of [1, 2, 3, 9]) expect(chain.jobs[id[i - 1] as string]?.sequenceId).toBe(id[0]);
    for (const i of [4, 5, 6, 7, 8]) expect(chain.jobs[id[i - 1] as string]?.sequenceId).toBe(id[3]);
    expect(jobNamed(chain, 'job1name').args).toEqual({ cmd: 'ls' });
    expect(jobNamed(chain, 'job1name').type).toBe('job1');
    // Every make call got the request id.
    expect(new Set(factory.made.map((m) => m.requestId))).toEqual(new Set([chain.requestId]));
  });
});

const decommTypes = {
  'get-cluster-instances': (args: Record<string, unknown>) => {
    args.instances = ['i1', 'i2', 'i3', 'i4'];
  },
  'check-ok-1': (args: Record<string, unknown>) => {
    args.physicalhost = `ph-${args.container}`;
  },
  'check-ok-2': {},
  'prep-job-1': {},
  'decom-step-1': (args: Record<string, unknown>) => {
    args.physicalhost = `ph-${args.container}`;
  },
  'decom-step-2': {},
  'decom-step-3': {},
  'cleanup-job': {},
};

const decommLayers = [
  ['request_decommission-cluster_begin'],
  ['decommission-cluster_begin'],
  ['get-instances'],
  ['repeat_pre-flight-checks_begin'],
  ['repeat_pre-flight-checks_begin'],
  ['sequence_pre-flight-checks_begin×4'],
  ['check-instance-is-ok_begin×4'],
  ['check-ok×4'],
  ['check-ok-again×4'],
  ['check-instance-is-ok_end×4'],
  ['sequence_pre-flight-checks_end×4'],
  ['repeat_pre-flight-checks_end'],
  ['repeat_pre-flight-checks_end'],
  ['prep-1'],
  ['repeat_decommission-instances_begin'],
  ['repeat_decommission-instances_begin'],
  ['sequence_decommission-instances_begin×4'],
  ['decommission-instance_begin×4'],
  ['decom-1×4'],
  ['decom-2×4'],
  ['decom-3×4'],
  ['decommission-instance_end×4'],
  ['sequence_decommission-instances_end×4'],
  ['repeat_decommission-instances_end'],
  ['repeat_decommission-instances_end'],
  ['first-cleanup-job'],
  ['second-cleanup-job'],
  ['fourth-cleanup-job', 'third-cleanup-job'],
  ['decommission-cluster_end'],
  ['request_decommission-cluster_end'],
];

describe('decommission-cluster with 4 instances (worked example 3)', () => {
  for (const name of ['decomm', 'decomm-sets']) {
    it(`${name}: has the layered shape, retries, sequence ids and recorded args`, async () => {
      const specs = await fixture(name);
      const { chain, requestArgs } = await buildJobChain({
        specs,
        type: 'decommission-cluster',
        args: { cluster: 'c1', env: 'prod' },
        factory: testFactory(decommTypes),
      });
      expect(layers(chain)).toEqual(decommLayers);
      expect(jobList(chain)).toHaveLength(4 + 1 + 4 + 4 * 6 + 1 + 4 + 4 * 7 + 4);

      const withRetry = jobList(chain).filter((j) => j.retry > 0);
      expect(withRetry.map((j) => j.name)).toEqual(['get-instances']);
      expect(withRetry[0]).toMatchObject({ retry: 3, retryWait: '10s' });
      const seqRetried = jobList(chain).filter((j) => j.sequenceRetry > 0);
      expect(seqRetried).toHaveLength(4);
      for (const j of seqRetried) {
        expect(j).toMatchObject({
          name: 'sequence_pre-flight-checks_begin',
          sequenceRetry: 3,
          sequenceRetryWait: '0s',
        });
      }
      for (const j of jobsNamed(chain, 'sequence_decommission-instances_begin')) {
        expect(j.sequenceRetry).toBe(0);
        expect('sequenceRetryWait' in j).toBe(false);
      }

      expect(jobNamed(chain, 'get-instances').args).toEqual({ cluster: 'c1' });
      expect(jobNamed(chain, 'prep-1').args).toEqual({
        cluster: 'c1',
        env: 'prod',
        instances: ['i1', 'i2', 'i3', 'i4'],
      });
      expect(jobNamed(chain, 'third-cleanup-job').args).toEqual({ cluster: 'test-cluster-001' });
      expect(jobNamed(chain, 'fourth-cleanup-job').args).toEqual({ cluster: 'c1' });
      for (const j of jobList(chain)) if (j.type === 'noop') expect('args' in j).toBe(false);

      // Each expansion is its own invocation: its jobs carry its start job's id.
      const top = jobNamed(chain, 'request_decommission-cluster_begin');
      for (const n of ['repeat_pre-flight-checks_begin', 'repeat_decommission-instances_end', 'prep-1']) {
        for (const j of jobsNamed(chain, n)) expect(j.sequenceId).toBe(top.id);
      }
      const starts = jobsNamed(chain, 'sequence_pre-flight-checks_begin');
      const instances = new Set<unknown>();
      for (const s of starts) {
        expect(s.sequenceId).toBe(s.id);
        const inner = jobList(chain).filter((j) => j.sequenceId === s.id);
        expect(inner.map((j) => j.name).sort()).toEqual([
          'check-instance-is-ok_begin',
          'check-instance-is-ok_end',
          'check-ok',
          'check-ok-again',
          'sequence_pre-flight-checks_begin',
          'sequence_pre-flight-checks_end',
        ]);
        const checkOk = inner.find((j) => j.name === 'check-ok');
        instances.add(checkOk?.args?.container);
        const again = inner.find((j) => j.name === 'check-ok-again');
        expect(again?.args).toEqual({
          hostAddr: `ph-${checkOk?.args?.container}`,
          nodeAddr: checkOk?.args?.container,
        });
      }
      expect(instances).toEqual(new Set(['i1', 'i2', 'i3', 'i4']));

      expect(requestArgs).toEqual([
        { Pos: 0, Name: 'cluster', Desc: '', Type: 'required', Given: true, Default: null, Value: 'c1' },
        { Pos: 1, Name: 'env', Desc: '', Type: 'required', Given: true, Default: null, Value: 'prod' },
        { Pos: 0, Name: 'something', Desc: '', Type: 'optional', Given: false, Default: '100', Value: '100' },
        {
          Pos: 0,
          Name: 'somethingelse',
          Desc: '',
          Type: 'static',
          Given: false,
          Default: null,
          Value: 'test-cluster-001',
        },
      ]);
    });
  }

  it('keeps the expanded iterations in list order', async () => {
    const specs = await fixture('decomm');
    const factory = testFactory(decommTypes);
    await buildJobChain({ specs, type: 'decommission-cluster', args: { cluster: 'c1', env: 'e' }, factory });
    const containers = factory.made
      .filter((m) => m.type === 'decom-step-1')
      .map((m) => factory.createdWith.get(m.id)?.container);
    expect(containers).toEqual(['i1', 'i2', 'i3', 'i4']);
  });
});

describe('decomm-limit-parallel (parallel batches)', () => {
  /** Sizes of the batches chained between an expansion's outer repeat begin and its outer end. */
  function batches(chain: Parameters<typeof successors>[0], outerId: string, node: string): number[] {
    const sizes: number[] = [];
    let cur = outerId;
    for (;;) {
      const next = successors(chain, cur);
      expect(next).toHaveLength(1);
      const job = chain.jobs[next[0] as string];
      const members = successors(chain, job?.id as string);
      if (!members.every((m) => chain.jobs[m]?.name === `sequence_${node}_begin`)) {
        expect(job?.name).toBe(`repeat_${node}_end`); // the outer end
        return sizes;
      }
      expect(job?.name).toBe(`repeat_${node}_begin`);
      sizes.push(members.length);
      let walk = members[0] as string;
      while (chain.jobs[walk]?.name !== `repeat_${node}_end`) walk = successors(chain, walk)[0] as string;
      expect(predecessors(chain, walk)).toHaveLength(members.length);
      cur = walk;
    }
  }

  it('batches 4 expansions as 3+1 (parallel: 3) and 2+2 (parallel: 2)', async () => {
    const specs = await fixture('decomm-limit-parallel');
    const { chain } = await buildJobChain({
      specs,
      type: 'decommission-cluster',
      args: { cluster: 'c1', env: 'e' },
      factory: testFactory(decommTypes),
    });
    const outerPre = predecessors(chain, jobNamed(chain, 'prep-1').id);
    expect(outerPre).toHaveLength(1);
    const getInstances = jobNamed(chain, 'get-instances');
    const preOuter = successors(chain, getInstances.id)[0] as string;
    expect(chain.jobs[preOuter]?.name).toBe('repeat_pre-flight-checks_begin');
    expect(batches(chain, preOuter, 'pre-flight-checks')).toEqual([3, 1]);
    const decOuter = successors(chain, jobNamed(chain, 'prep-1').id)[0] as string;
    expect(batches(chain, decOuter, 'decommission-instances')).toEqual([2, 2]);
    expect(jobsNamed(chain, 'repeat_pre-flight-checks_begin')).toHaveLength(3);
    expect(jobsNamed(chain, 'repeat_decommission-instances_end')).toHaveLength(3);
  });
});
