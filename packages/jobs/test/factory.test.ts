import { State } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { BaseJob } from '../src/base-job.js';
import { BUILTIN_JOB_TYPES, builtinJobFactory, NoopJob, SleepJob } from '../src/builtin/index.js';
import { assertJob, composeFactories, isUnknownJobTypeError, jobFactoryFromMap } from '../src/factory.js';
import type { Job, JobFactory, JobReturn } from '../src/job.js';
import { UnknownJobTypeError } from '../src/job.js';
import { jobId } from './helpers.js';

class UserNoop extends BaseJob {
  override async run(): Promise<JobReturn> {
    return this.complete({ stdout: 'user noop' });
  }
}

describe('builtinJobFactory', () => {
  it('makes the built-in types and tells them', () => {
    expect(builtinJobFactory.types?.()).toEqual([...BUILTIN_JOB_TYPES]);
    expect(builtinJobFactory.make(jobId('noop'))).toBeInstanceOf(NoopJob);
    expect(builtinJobFactory.make(jobId('sleep'))).toBeInstanceOf(SleepJob);
  });

  it('throws UnknownJobTypeError for other types', () => {
    expect(() => builtinJobFactory.make(jobId('nope'))).toThrow(UnknownJobTypeError);
    expect(() => builtinJobFactory.make(jobId('nope'))).toThrow('unknown job type: nope');
  });
});

describe('jobFactoryFromMap', () => {
  it('accepts functions and classes, passing the id', () => {
    const f = jobFactoryFromMap({ a: (id) => new UserNoop(id), b: UserNoop });
    const id = jobId('b', 'named');
    const job = f.make(id);
    expect(job).toBeInstanceOf(UserNoop);
    expect(job.id()).toEqual(id);
    expect(f.make(jobId('a'))).toBeInstanceOf(UserNoop);
    expect(f.types?.()).toEqual(['a', 'b']);
  });

  it('does not treat inherited keys as job types', () => {
    expect(() => jobFactoryFromMap({}).make(jobId('toString'))).toThrow(UnknownJobTypeError);
    expect(() => jobFactoryFromMap({}).make(jobId('constructor'))).toThrow(UnknownJobTypeError);
  });

  it('rejects non-function makers, and with check, makers that return no job', () => {
    expect(() => jobFactoryFromMap({ x: 'nope' as never })).toThrow('job type "x" maps to string');
    const f = jobFactoryFromMap({ x: () => ({ run: 1 }) as unknown as Job }, { check: true });
    expect(() => f.make(jobId('x'))).toThrow('job of type "x" has no id() method');
    expect(() => assertJob(null, 'y')).toThrow('maker for job type "y" returned null, not a job');
  });
});

describe('composeFactories', () => {
  const user = jobFactoryFromMap({ noop: UserNoop, custom: UserNoop });

  it('the user factory wins for the types it knows', async () => {
    const f = composeFactories(user, builtinJobFactory);
    const noop = f.make(jobId('noop'));
    expect(noop).toBeInstanceOf(UserNoop);
    expect(await noop.run({})).toEqual({ state: State.COMPLETE, exit: 0, stdout: 'user noop' });
    expect(f.make(jobId('custom'))).toBeInstanceOf(UserNoop);
  });

  it('unknown types fall through to the next factory', () => {
    const f = composeFactories(user, builtinJobFactory);
    expect(f.make(jobId('sleep'))).toBeInstanceOf(SleepJob);
    expect(() => f.make(jobId('nope'))).toThrow(UnknownJobTypeError);
  });

  it('the order decides precedence', () => {
    expect(composeFactories(builtinJobFactory, user).make(jobId('noop'))).toBeInstanceOf(NoopJob);
  });

  it('other errors from a factory propagate and do not fall through', () => {
    const broken: JobFactory = {
      make(id) {
        if (id.type === 'noop') throw new Error('database down');
        throw new UnknownJobTypeError(id.type);
      },
    };
    const f = composeFactories(broken, builtinJobFactory);
    expect(() => f.make(jobId('noop'))).toThrow('database down');
    expect(f.make(jobId('sleep'))).toBeInstanceOf(SleepJob);
  });

  it('recognises UnknownJobTypeError from another copy of the package by name', () => {
    class UnknownJobTypeErrorCopy extends Error {
      constructor(t: string) {
        super(`unknown job type: ${t}`);
        this.name = 'UnknownJobTypeError';
      }
    }
    expect(isUnknownJobTypeError(new UnknownJobTypeErrorCopy('x'))).toBe(true);
    expect(isUnknownJobTypeError(new Error('x'))).toBe(false);
    const copy: JobFactory = {
      make(id) {
        throw new UnknownJobTypeErrorCopy(id.type);
      },
    };
    expect(composeFactories(copy, builtinJobFactory).make(jobId('noop'))).toBeInstanceOf(NoopJob);
  });

  it('types() is the sorted union, present only when every part tells its types', () => {
    expect(composeFactories(user, builtinJobFactory).types?.()).toEqual([
      'custom',
      'noop',
      'shell-command',
      'sleep',
      'split',
    ]);
    const mute: JobFactory = { make: (id) => user.make(id) };
    expect(composeFactories(mute, builtinJobFactory).types).toBeUndefined();
  });
});
