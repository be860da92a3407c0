/** Every error class of buildJobChain, request args, static args, async jobs. */
import { builtinJobFactory } from '@spincycle/jobs';
import { BadRequestError, SpinCycleError } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import {
  ArgTypeError,
  buildJobChain,
  ChainBuildError,
  JobCreateError,
  JobFactoryError,
  MissingArgError,
  NotARequestError,
  StaticArgError,
  UndeclaredArgError,
  UnknownRequestTypeError,
} from '../src/index.js';
import { failure, fixture, jobNamed, linearNames, testFactory } from './helpers.js';

const miscTypes = {
  x: {},
  echo: (a: Record<string, unknown>) => {
    a.greeting = `hello ${a.name}`;
  },
};

async function misc(
  type: string,
  args: Record<string, unknown>,
  types: Parameters<typeof testFactory>[0] = miscTypes,
) {
  const specs = await fixture('misc');
  return buildJobChain({ specs, type, args, factory: testFactory(types) });
}

function expect400(err: Error, cls: abstract new (...args: never[]) => Error) {
  expect(err).toBeInstanceOf(cls);
  expect(err).toBeInstanceOf(ChainBuildError);
  expect(err).toBeInstanceOf(BadRequestError);
  expect((err as BadRequestError).httpStatus).toBe(400);
}

describe('request type errors', () => {
  it('unknown and empty request types', async () => {
    const err = await failure(misc('nope', {}));
    expect400(err, UnknownRequestTypeError);
    expect(err.message).toBe('cannot find specs for request: nope');
    expect(err).toMatchObject({ code: 'unknown_request_type', requestType: 'nope' });
    const empty = await failure(misc('', {}));
    expect400(empty, UnknownRequestTypeError);
    expect(empty.message).toBe('invalid create request: request type is empty');
  });

  it('a sequence that is not a request', async () => {
    const err = await failure(misc('not-a-request', { name: 'n' }));
    expect400(err, NotARequestError);
    expect(err.message).toBe('not-a-request is not a request');
  });
});

describe('request args', () => {
  it('records required, optional and static args with their descriptions', async () => {
    const { requestArgs } = await misc('outer', { name: 'ann', hosts: ['a', 'b'] });
    expect(requestArgs).toEqual([
      { Pos: 0, Name: 'name', Desc: 'who', Type: 'required', Given: true, Default: null, Value: 'ann' },
      { Pos: 0, Name: 'count', Desc: 'how many', Type: 'optional', Given: false, Default: '1', Value: '1' },
      { Pos: 1, Name: 'hosts', Desc: '', Type: 'optional', Given: true, Default: '', Value: ['a', 'b'] },
      { Pos: 0, Name: 'mode', Desc: 'fixed', Type: 'static', Given: false, Default: null, Value: 'fast' },
    ]);
  });

  it('a request without args', async () => {
    const { chain, requestArgs } = await misc('no-args', {});
    expect(requestArgs).toEqual([]);
    expect(linearNames(chain)).toEqual([
      'request_no-args_begin',
      'no-args_begin',
      'only',
      'no-args_end',
      'request_no-args_end',
    ]);
  });

  it('a missing required arg', async () => {
    const err = await failure(misc('outer', { count: '2' }));
    expect400(err, MissingArgError);
    expect(err.message).toBe("request outer: required arg 'name' not set");
    expect(err).toMatchObject({ arg: 'name', requestType: 'outer', code: 'missing_arg' });
  });

  it('an undeclared arg', async () => {
    const err = await failure(misc('outer', { name: 'n', bogus: 1, other: 2 }));
    expect400(err, UndeclaredArgError);
    expect(err.message).toBe(
      "request outer: args 'bogus', 'other' not declared by the request (its args: 'name', 'count', 'hosts')",
    );
    expect(err).toMatchObject({ arg: 'bogus' });
    const none = await failure(misc('no-args', { x: 1 }));
    expect(none.message).toBe("request no-args: arg 'x' not declared by the request (its args: none)");
  });

  it('an attempt to set a static arg', async () => {
    const err = await failure(misc('outer', { name: 'n', mode: 'slow' }));
    expect400(err, StaticArgError);
    expect(err.message).toBe("request outer: arg 'mode' is static and cannot be set");
    expect(err).toMatchObject({ arg: 'mode' });
  });

  it.each([
    [{ a: 1 }, 'an object'],
    [null, 'null'],
    [[1, [2]], 'a list whose element 1 is a list'],
    [['a', null], 'a list whose element 1 is null'],
    [Number.NaN, 'a non-finite number'],
    [undefined, 'undefined'],
    [() => 1, 'a function'],
  ])('a wrong value type: %j', async (value, problem) => {
    const err = await failure(misc('outer', { name: value }));
    expect400(err, ArgTypeError);
    expect(err.message).toBe(
      `request outer: arg 'name' is ${problem}; request arg values must be strings, numbers, booleans, or lists of those`,
    );
    expect(err).toMatchObject({ arg: 'name' });
  });

  it('args that are not an object', async () => {
    const err = await failure(misc('outer', ['name'] as unknown as Record<string, unknown>));
    expect400(err, ArgTypeError);
  });

  it.each([['s'], [42], [true], [false], [12345678901234567890n], [['a', 1, true]], [[]]])(
    'accepts value #%#',
    async (value) => {
      const { chain } = await misc('outer', { name: value });
      expect(jobNamed(chain, 'j').args?.name).toEqual(value);
    },
  );

  it('the initial job args are a copy: the caller object is not changed', async () => {
    const args = { name: 'n' };
    await misc('outer', args);
    expect(args).toEqual({ name: 'n' });
  });
});

describe('static args of called sequences', () => {
  it('always have their declared value, even when the parent passes one', async () => {
    // n1 passes `mode` (from count) into `inner`, whose static `mode` is "slow".
    const { chain } = await misc('outer', { name: 'ann', count: '7' });
    expect(jobNamed(chain, 'j').args).toEqual({ name: 'ann', mode: 'slow' });
    // n1's sets read the callee's value back; n2 gets it and sets greeting.
    expect(jobNamed(chain, 'n2').args).toEqual({ name: 'ann', innerMode: 'slow' });
  });
});

describe('job errors', () => {
  it('create throwing is a JobCreateError with the nested path', async () => {
    const err = await failure(
      misc(
        'outer',
        { name: 'n' },
        {
          ...miscTypes,
          x: () => {
            throw new Error('boom');
          },
        },
      ),
    );
    expect400(err, JobCreateError);
    expect(err.message).toBe(
      "in seq outer, node n1: in seq inner, node j: cannot build job: Error creating 'x j' job: boom",
    );
    expect(err).toMatchObject({
      requestType: 'outer',
      sequence: 'inner',
      node: 'j',
      jobType: 'x',
      jobName: 'j',
    });
    expect((err as Error & { cause?: unknown }).cause).toBeInstanceOf(Error);
  });

  it("a job arg error keeps the job's arg name", async () => {
    const specs = await fixture('bench-wide');
    const err = await failure(
      buildJobChain({ specs, type: 'bench-wide', args: { hosts: ['a', 'b'] }, factory: builtinJobFactory }),
    );
    expect400(err, JobCreateError);
    expect(err.message).toMatch(
      /^in seq bench-wide, node split-hosts: cannot build job: Error creating 'split split-hosts' job: arg input/,
    );
    expect(err).toMatchObject({ arg: 'input', node: 'split-hosts' });
  });

  it('a job not setting an arg its node declares in sets', async () => {
    const err = await failure(misc('outer', { name: 'n' }, { x: {}, echo: {} }));
    expect400(err, ChainBuildError);
    expect(err.message).toBe('in seq outer, node n2: expected echo to set greeting in jobargs');
    expect(err).toMatchObject({ node: 'n2', arg: 'greeting', code: 'chain_build' });
  });

  it('a job type the factory does not make is a server fault (500)', async () => {
    const err = await failure(misc('outer', { name: 'n' }, { echo: miscTypes.echo }));
    expect(err).toBeInstanceOf(JobFactoryError);
    expect(err).toBeInstanceOf(SpinCycleError);
    expect(err).not.toBeInstanceOf(BadRequestError);
    expect((err as JobFactoryError).httpStatus).toBe(500);
    expect(err.message).toBe(
      "in seq outer, node n1: in seq inner, node j: cannot build job: Error making 'x j' job: unknown job type: x",
    );
  });

  it('serialize failing is a server fault (500)', async () => {
    const err = await failure(
      misc(
        'outer',
        { name: 'n' },
        {
          ...miscTypes,
          x: {
            bytes: () => {
              throw new Error('cannot encode');
            },
          },
        },
      ),
    );
    expect(err).toBeInstanceOf(JobFactoryError);
    expect(err.message).toContain("Error serializing 'x j' job: cannot encode");
  });

  it('a missing node input is a 400 naming node and arg', async () => {
    // `pick` = "a" runs `inner`, which needs `name`; the conditional passes it from `pick`.
    const ok = await misc('choose', { pick: 'a' });
    expect(jobNamed(ok.chain, 'j').args).toEqual({ name: 'a', mode: 'slow' });
    const specs = await fixture('misc');
    const seq = specs.sequences.get('inner');
    const node = seq?.nodes.get('j');
    if (!node) throw new Error('fixture changed');
    const broken = { sequences: new Map(specs.sequences) };
    broken.sequences.set('inner', {
      ...seq,
      nodes: new Map([['j', { ...node, args: [{ expected: 'x', given: 'nothing' }] }]]),
    } as never);
    const err = await failure(
      buildJobChain({ specs: broken, type: 'choose', args: { pick: 'a' }, factory: testFactory(miscTypes) }),
    );
    expect400(err, ChainBuildError);
    expect(err.message).toBe(
      'in seq choose, node c: in seq inner, node j: cannot create job x: missing nothing from job args',
    );
  });
});

describe('conditionals', () => {
  it('the built-in noop branch', async () => {
    const { chain } = await misc('choose', { pick: 'none' });
    expect(linearNames(chain)).toEqual([
      'request_choose_begin',
      'choose_begin',
      'conditional_c_begin',
      'conditional_c_end',
      'choose_end',
      'request_choose_end',
    ]);
  });

  it('an `if` value that is not a string', async () => {
    const err = await failure(misc('choose', { pick: 5 }));
    expect400(err, ChainBuildError);
    expect(err.message).toBe("in seq choose, node c: 'if' arg 'pick' is not a string");
  });

  it('no matching branch', async () => {
    const err = await failure(misc('choose', { pick: 'zzz' }));
    expect(err.message).toBe(
      "in seq choose, node c: 'if: pick' value 'zzz' does not match any options: a, none",
    );
  });
});

describe('asynchronous jobs', () => {
  const tick = () => new Promise((r) => setTimeout(r, 1));

  it('awaits create and serialize that return promises', async () => {
    const specs = await fixture('a-b-c');
    const factory = testFactory({
      noop: {
        bytes: async () => {
          await tick();
          return new Uint8Array([7]);
        },
      },
      aJobType: async (a) => {
        await tick();
        a.aArg = 'late';
      },
      bJobType: {},
      cJobType: {},
    });
    const { chain } = await buildJobChain({ specs, type: 'three-nodes', args: { foo: 'f' }, factory });
    expect(linearNames(chain)).toHaveLength(7);
    expect(jobNamed(chain, 'b').args).toEqual({ aArg: 'late' });
    expect(jobNamed(chain, 'three-nodes_end').bytes).toBe('Bw==');
  });

  it('a rejected create is a JobCreateError', async () => {
    const specs = await fixture('a-b-c');
    const factory = testFactory({
      aJobType: async (a) => {
        a.aArg = 1;
      },
      bJobType: async () => {
        await tick();
        throw new Error('no b today');
      },
      cJobType: {},
    });
    const err = await failure(
      buildJobChain({ specs, type: 'retry-three-nodes', args: { foo: 'f' }, factory }),
    );
    expect400(err, JobCreateError);
    expect(err.message).toBe(
      "in seq retry-three-nodes, node node: in seq three-nodes, node b: cannot build job: Error creating 'bJobType b' job: no b today",
    );
  });
});
