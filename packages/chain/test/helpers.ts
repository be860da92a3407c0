/** Fixture loading, a scriptable job factory and graph helpers for the chain tests. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Job, type JobFactory, type JobId, UnknownJobTypeError } from '@spincycle/jobs';
import type { JobArgs, JobChain, Job as WireJob } from '@spincycle/protocol';
import { loadSpecs, type SpecSet } from '@spincycle/spec';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Loads `fixtures/<name>/`; parse errors fail the test (graph/static checks are not run). */
export async function fixture(name: string): Promise<SpecSet> {
  const { specs, diagnostics } = await loadSpecs(path.join(FIXTURES, name));
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`fixture ${name}: ${errors.map((d) => d.message).join('; ')}`);
  return specs;
}

/** What a test job does in `create` (may change args, throw, return a promise). */
export type CreateFn = (args: JobArgs, id: JobId) => void | Promise<void>;

export interface TestJobType {
  create?: CreateFn;
  /** Bytes `serialize` returns (default: empty). */
  bytes?: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
}

export interface TestFactory extends JobFactory {
  /** Every make call, in order. */
  made: JobId[];
  /** Args as each job's create saw them (copied at the time of the call), by job id. */
  createdWith: Map<string, JobArgs>;
}

/**
 * A factory of test jobs. `types` maps job type → behaviour; unknown types throw
 * UnknownJobTypeError. `noop` (a no-op test job) is made unless `withNoop` is
 * false, to test a factory that lacks it.
 */
export function testFactory(types: Record<string, TestJobType | CreateFn>, withNoop = true): TestFactory {
  const made: JobId[] = [];
  const createdWith = new Map<string, JobArgs>();
  return {
    made,
    createdWith,
    make(id: JobId): Job {
      made.push(id);
      let t = types[id.type];
      if (t === undefined && id.type === 'noop' && withNoop) t = {};
      if (t === undefined) throw new UnknownJobTypeError(id.type);
      const spec: TestJobType = typeof t === 'function' ? { create: t } : t;
      return {
        id: () => id,
        create(args: JobArgs) {
          createdWith.set(id.id, { ...args });
          return spec.create?.(args, id);
        },
        serialize() {
          const b = spec.bytes;
          return typeof b === 'function' ? b() : (b ?? new Uint8Array(0));
        },
        deserialize() {},
        run: async () => ({ state: 3 }),
        stop() {},
        status: () => '',
      };
    },
  };
}

/**
 * The chain's jobs in a canonical order that does not depend on object key
 * order (ids that look like integers enumerate first): Kahn's order from the
 * first job, successors in adjacency-list order.
 */
export function jobList(chain: JobChain): WireJob[] {
  const all = Object.values(chain.jobs);
  const indeg = new Map<string, number>(all.map((j) => [j.id, 0]));
  for (const next of Object.values(chain.adjacencyList))
    for (const n of next) indeg.set(n, (indeg.get(n) ?? 0) + 1);
  const queue = all.filter((j) => indeg.get(j.id) === 0).map((j) => j.id);
  const out: WireJob[] = [];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    out.push(chain.jobs[id] as WireJob);
    for (const n of chain.adjacencyList[id] ?? []) {
      const left = (indeg.get(n) as number) - 1;
      indeg.set(n, left);
      if (left === 0) queue.push(n);
    }
  }
  if (out.length !== all.length) throw new Error('chain has a cycle or unreachable jobs');
  return out;
}

export function jobsNamed(chain: JobChain, name: string): WireJob[] {
  return jobList(chain).filter((j) => j.name === name);
}

export function jobNamed(chain: JobChain, name: string): WireJob {
  const list = jobsNamed(chain, name);
  if (list.length !== 1) throw new Error(`expected one job named ${name}, found ${list.length}`);
  return list[0] as WireJob;
}

export function successors(chain: JobChain, id: string): string[] {
  return chain.adjacencyList[id] ?? [];
}

export function predecessors(chain: JobChain, id: string): string[] {
  return Object.entries(chain.adjacencyList)
    .filter(([, next]) => next.includes(id))
    .map(([from]) => from);
}

/** The single job without predecessors. */
function firstJob(chain: JobChain): WireJob {
  const hasPred = new Set(Object.values(chain.adjacencyList).flat());
  const roots = Object.values(chain.jobs).filter((j) => !hasPred.has(j.id));
  if (roots.length !== 1) throw new Error(`expected one first job, found ${roots.length}`);
  return roots[0] as WireJob;
}

/** Names along a chain that has no branches, from the first job. */
export function linearNames(chain: JobChain): string[] {
  const out: string[] = [];
  let job: WireJob | undefined = firstJob(chain);
  while (job) {
    out.push(job.name);
    const next = successors(chain, job.id);
    if (next.length > 1) throw new Error(`${job.name} branches`);
    job = next.length === 1 ? chain.jobs[next[0] as string] : undefined;
  }
  return out;
}

/**
 * The chain layer by layer (layer = longest distance from the first job), each
 * layer as `name` or `name×k` entries sorted by name.
 */
export function layers(chain: JobChain): string[][] {
  const depth = new Map<string, number>();
  const indeg = new Map<string, number>();
  for (const j of jobList(chain)) indeg.set(j.id, 0);
  for (const next of Object.values(chain.adjacencyList))
    for (const n of next) indeg.set(n, (indeg.get(n) ?? 0) + 1);
  const queue = [firstJob(chain).id];
  depth.set(queue[0] as string, 0);
  while (queue.length > 0) {
    const id = queue.shift() as string;
    for (const n of successors(chain, id)) {
      depth.set(n, Math.max(depth.get(n) ?? 0, (depth.get(id) as number) + 1));
      const left = (indeg.get(n) as number) - 1;
      indeg.set(n, left);
      if (left === 0) queue.push(n);
    }
  }
  const out: Map<string, number>[] = [];
  for (const j of jobList(chain)) {
    const d = depth.get(j.id) as number;
    out[d] ??= new Map();
    const m = out[d] as Map<string, number>;
    m.set(j.name, (m.get(j.name) ?? 0) + 1);
  }
  return out.map((m) =>
    [...m.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, k]) => (k === 1 ? name : `${name}×${k}`)),
  );
}

/** The error a build promise rejects with; fails the test when it resolves or rejects with a non-Error. */
export async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected the build to fail');
  return err;
}
