/** Job factories from plain maps, and composition of factories with precedence. */
import type { Job, JobFactory, JobId } from './job.js';
import { UnknownJobTypeError } from './job.js';

/** Makes one job. A class (`new`-able) is accepted too: `{ 'my-job': MyJob }`. */
export type JobMaker = (id: JobId) => Job;

/** Job type → maker. The plain-object form of a job factory. */
export type JobMakers = Record<string, JobMaker | (new (id: JobId) => Job)>;

/** Whether `err` is an UnknownJobTypeError, also from another copy of this package. */
export function isUnknownJobTypeError(err: unknown): err is UnknownJobTypeError {
  return err instanceof UnknownJobTypeError || (err instanceof Error && err.name === 'UnknownJobTypeError');
}

function isClass(fn: unknown): boolean {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** Type tables of the factories made by jobFactoryFromMap: composition asks them instead of catching throws. */
const knownTypes = new WeakMap<JobFactory, ReadonlyMap<string, unknown>>();

const JOB_METHODS = ['id', 'create', 'serialize', 'deserialize', 'run', 'stop', 'status'] as const;

/** Throws a TypeError naming the job type when `job` lacks a Job method. */
export function assertJob(job: unknown, type: string): asserts job is Job {
  if (typeof job !== 'object' || job === null) {
    throw new TypeError(
      `maker for job type "${type}" returned ${job === null ? 'null' : typeof job}, not a job`,
    );
  }
  for (const m of JOB_METHODS) {
    if (typeof (job as Record<string, unknown>)[m] !== 'function') {
      throw new TypeError(`job of type "${type}" has no ${m}() method`);
    }
  }
}

/**
 * A JobFactory from a map of job type → maker. Unknown types throw
 * UnknownJobTypeError. With `check`, every made job is checked to have the
 * Job methods (used for user modules, where a slip should be a clear error).
 */
export function jobFactoryFromMap(makers: JobMakers, options: { check?: boolean } = {}): JobFactory {
  const table = new Map<string, JobMaker>();
  for (const [type, maker] of Object.entries(makers)) {
    if (typeof maker !== 'function') {
      throw new TypeError(
        `job type "${type}" maps to ${maker === null ? 'null' : typeof maker}, not a function (id) => Job`,
      );
    }
    table.set(type, isClass(maker) ? (id) => new (maker as new (id: JobId) => Job)(id) : (maker as JobMaker));
  }
  const check = options.check === true;
  const factory: JobFactory = {
    make(id: JobId): Job {
      const maker = table.get(id.type);
      if (!maker) throw new UnknownJobTypeError(id.type);
      const job = maker(id);
      if (check) assertJob(job, id.type);
      return job;
    },
    types: () => [...table.keys()].sort(),
  };
  knownTypes.set(factory, table);
  return factory;
}

/**
 * One factory over several: `make` asks each in order and the first that does
 * not throw UnknownJobTypeError wins (other errors propagate). So
 * `composeFactories(user, builtinJobFactory)` lets the user's jobs take
 * precedence over built-in ones of the same type. `types()` is present when
 * every part can tell its types.
 */
export function composeFactories(...factories: JobFactory[]): JobFactory {
  const parts = factories.slice();
  // Throwing and catching costs microseconds per job; chains have thousands of
  // jobs, so factories with a known type table are asked without a throw.
  const tables = parts.map((f) => knownTypes.get(f));
  const make = (id: JobId): Job => {
    for (let i = 0; i < parts.length; i++) {
      const f = parts[i] as JobFactory;
      const table = tables[i];
      if (table) {
        if (table.has(id.type)) return f.make(id);
        continue;
      }
      try {
        return f.make(id);
      } catch (err) {
        if (!isUnknownJobTypeError(err)) throw err;
      }
    }
    throw new UnknownJobTypeError(id.type);
  };
  if (!parts.every((f) => typeof f.types === 'function')) return { make };
  return {
    make,
    types: () => [...new Set(parts.flatMap((f) => (f.types as () => string[])()))].sort(),
  };
}
