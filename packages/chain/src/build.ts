/**
 * The resolver (reference §6): turns a request type and its args into the
 * request's immutable job chain.
 *
 * Speed matters (a fan-out over thousands of hosts must build in well under a
 * second), hence: a per-sequence plan computed once and cached, edges appended
 * in O(1) and verified once at the end, and a synchronous build. The recursion
 * is written as generators that yield only when a job's `create` or
 * `serialize` returns a thenable; a chain of synchronous jobs never allocates a
 * promise per job.
 */
import type { JobArgs, JobChain, RequestArg, Job as WireJob } from '@spincycle/protocol';
import { State } from '@spincycle/protocol';
import {
  isUnknownJobType,
  type Job,
  type JobFactory,
  type NodeSpec,
  type SequenceSpec,
  type SpecSet,
  topologicalOrder,
} from './deps.js';
import { ChainBuildError, errorText, JobCreateError, JobFactoryError } from './errors.js';
import { RequestGraph } from './graph.js';
import { JobIdGenerator } from './job-id.js';
import { BuiltinNoopJob } from './noop.js';
import { requestSequence, resolveRequestArgs } from './request-args.js';
import { newRequestId } from './request-id.js';

export interface BuildJobChainInput {
  /** Parsed, checked specs. */
  specs: SpecSet;
  /** Request type: the name of a `request: true` sequence. */
  type: string;
  /** The caller's args. */
  args: Record<string, unknown>;
  /** Makes the jobs; `noop` falls back to a built-in when the factory does not know it. */
  factory: JobFactory;
  /** Use this request id instead of generating one. */
  requestId?: string;
}

export interface BuiltJobChain {
  requestId: string;
  chain: JobChain;
  requestArgs: RequestArg[];
}

const NOOP = 'noop';

/**
 * Builds the job chain of a new request. Throws a ChainBuildError subclass
 * (HTTP 400) for bad input, JobFactoryError or a plain Error (HTTP 500) for
 * server faults.
 */
export async function buildJobChain(input: BuildJobChainInput): Promise<BuiltJobChain> {
  const seq = requestSequence(input.specs, input.type);
  const { requestArgs, jobArgs } = resolveRequestArgs(seq, input.args);
  const requestId = input.requestId ?? newRequestId();
  const builder = new Builder(input.specs, input.factory, requestId, seq.name);
  const result = drive(builder.sequence(seq.name, pair(`request_${seq.name}`), jobArgs, 0, '0s'));
  const top = isThenable(result) ? await result : result;
  builder.graph.verify(top.begin, top.end);
  return { requestId, chain: builder.graph.toChain(requestId), requestArgs };
}

/** A built piece of graph: its single first and last job. */
interface Sub {
  begin: number;
  end: number;
}

type Step<T> = Generator<PromiseLike<unknown>, T, unknown>;

/** Runs a build generator: synchronously while nothing yields, asynchronously after the first thenable. */
function drive<T>(gen: Step<T>): T | Promise<T> {
  const step = gen.next();
  return step.done ? step.value : resume(gen, step.value);
}

async function resume<T>(gen: Step<T>, first: PromiseLike<unknown>): Promise<T> {
  let pending = first;
  for (;;) {
    let value: unknown;
    let failed = false;
    let error: unknown;
    try {
      value = await pending;
    } catch (err) {
      failed = true;
      error = err;
    }
    const step = failed ? gen.throw(error) : gen.next(value);
    if (step.done) return step.value;
    pending = step.value;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== undefined &&
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Shallow copy of `args`, or undefined when it has no keys (recorded args are omitted when empty). */
function snapshot(args: JobArgs): JobArgs | undefined {
  for (const _ in args) return { ...args };
  return undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'map';
  return typeof value;
}

/** What the builder needs of a sequence, computed once per SequenceSpec object. */
interface Plan {
  nodes: NodeSpec[];
  /** `<seq>_begin` / `<seq>_end`. */
  own: Pair;
  /** Per node (same index): indices of its deps in `nodes`. */
  deps: number[][];
  /** Nodes nothing depends on: they lead to `<seq>_end`. */
  sinks: number[];
  optional: [string, string][];
  statics: [string, string][];
}

const plans = new WeakMap<SequenceSpec, Plan>();

/** Names of a begin/end pair of noop jobs. */
interface Pair {
  begin: string;
  end: string;
}

function pair(base: string): Pair {
  return { begin: `${base}_begin`, end: `${base}_end` };
}

/** The structural job names a node gives rise to (§6.6), made once per NodeSpec and shared by all jobs. */
interface NodeNames {
  sequence: Pair;
  conditional: Pair;
  repeat: Pair;
  noop: Pair;
}

const nodeNames = new WeakMap<NodeSpec, NodeNames>();

function namesOf(node: NodeSpec): NodeNames {
  let names = nodeNames.get(node);
  if (!names) {
    names = {
      sequence: pair(`sequence_${node.name}`),
      conditional: pair(`conditional_${node.name}`),
      repeat: pair(`repeat_${node.name}`),
      noop: pair(`noop_${node.name}`),
    };
    nodeNames.set(node, names);
  }
  return names;
}

function planOf(seq: SequenceSpec): Plan {
  let plan = plans.get(seq);
  if (plan) return plan;
  const nodes = topologicalOrder(seq);
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    index.set(n.name, i);
  });
  const hasDependents = new Array<boolean>(nodes.length).fill(false);
  const deps = nodes.map((n, i) => {
    const out: number[] = [];
    for (const d of n.deps) {
      const k = index.get(d);
      if (k === undefined || k >= i)
        throw new Error(`sequence ${seq.name}: node ${n.name} depends on unknown node ${d}`);
      if (!out.includes(k)) out.push(k);
      hasDependents[k] = true;
    }
    return out;
  });
  const sinks: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (!hasDependents[i]) sinks.push(i);
  const defaults = (list: { name: string; default: string | undefined }[]) =>
    list.filter((a) => a.default !== undefined).map((a): [string, string] => [a.name, a.default as string]);
  plan = {
    nodes,
    own: pair(seq.name),
    deps,
    sinks,
    optional: defaults(seq.args.optional),
    statics: defaults(seq.args.static),
  };
  plans.set(seq, plan);
  return plan;
}

/** Fields of one job besides its factory-made part. */
interface JobSpec {
  type: string;
  name: string;
  retry: number;
  retryWait: string;
  /** Id of the sequence start job; `''` makes the job its own sequence start. */
  sequenceId: string;
  sequenceRetry: number;
  sequenceRetryWait: string;
}

class Builder {
  readonly graph = new RequestGraph();
  private readonly ids = new JobIdGenerator();
  /** The `in seq S, node N:` nesting, for error messages. */
  private readonly seqStack: string[] = [];
  private readonly nodeStack: string[] = [];
  /** Set once the factory said it does not make `noop`. */
  private builtinNoop = false;

  constructor(
    private readonly specs: SpecSet,
    private readonly factory: JobFactory,
    private readonly requestId: string,
    private readonly requestType: string,
  ) {}

  /**
   * One invocation of a sequence (§6.2): `<wrapper>_begin → <seq>_begin → nodes
   * → <seq>_end → <wrapper>_end`. `args` is this invocation's working map: its
   * defaults are filled in here and its nodes' `sets` write into it.
   */
  *sequence(
    seqName: string,
    wrapper: Pair,
    args: JobArgs,
    seqRetry: number,
    seqRetryWait: string,
  ): Step<Sub> {
    const seq = this.specs.sequences.get(seqName);
    // Built-in empty `noop` sequence, unless the specs define one.
    if (seq === undefined && seqName !== NOOP) throw new Error(`cannot find specs for sequence: ${seqName}`);
    const plan = seq ? planOf(seq) : undefined;
    if (plan) {
      for (const [name, value] of plan.optional) if (!Object.hasOwn(args, name)) args[name] = value;
      // Static args always have their declared value, even if a parent passed one (fixes §14 #25).
      for (const [name, value] of plan.statics) args[name] = value;
    }

    let wb = this.job(noopSpec(wrapper.begin, '', seqRetry, seqRetryWait), {}, false);
    if (typeof wb !== 'number') wb = (yield wb) as number;
    const seqId = this.idOf(wb);
    let we = this.job(noopSpec(wrapper.end, seqId), {}, false);
    if (typeof we !== 'number') we = (yield we) as number;
    if (!seq || !plan) {
      this.graph.addEdge(wb, we);
      return { begin: wb, end: we };
    }

    let sb = this.job(noopSpec(plan.own.begin, seqId), {}, false);
    if (typeof sb !== 'number') sb = (yield sb) as number;
    this.graph.addEdge(wb, sb);

    const ends = new Array<number>(plan.nodes.length);
    for (let k = 0; k < plan.nodes.length; k++) {
      const node = plan.nodes[k] as NodeSpec;
      this.seqStack.push(seq.name);
      this.nodeStack.push(node.name);
      const sub = yield* this.node(node, args, seqId);
      this.seqStack.pop();
      this.nodeStack.pop();
      const deps = plan.deps[k] as number[];
      if (deps.length === 0) this.graph.addEdge(sb, sub.begin);
      else for (const d of deps) this.graph.addEdge(ends[d] as number, sub.begin);
      ends[k] = sub.end;
    }

    let se = this.job(noopSpec(plan.own.end, seqId), {}, false);
    if (typeof se !== 'number') se = (yield se) as number;
    if (plan.sinks.length === 0) this.graph.addEdge(sb, se);
    else for (const k of plan.sinks) this.graph.addEdge(ends[k] as number, se);
    this.graph.addEdge(se, we);
    return { begin: wb, end: we };
  }

  /** One node of a sequence, expanded over its `each:` lists (§6.2 step 3, §6.5). */
  private *node(node: NodeSpec, args: JobArgs, seqId: string): Step<Sub> {
    let lists: unknown[][] | undefined;
    let count = 1;
    if (node.each.length > 0) {
      lists = this.eachLists(node, args);
      count = (lists[0] as unknown[]).length;
    }
    const subs: Sub[] = [];
    for (let i = 0; i < count; i++) {
      const nodeArgs: JobArgs = {};
      for (const a of node.args) {
        if (!Object.hasOwn(args, a.given)) {
          throw this.buildError(
            `cannot create job ${node.type ?? node.name}: missing ${a.given} from job args`,
            a.given,
          );
        }
        nodeArgs[a.expected] = args[a.given];
      }
      if (lists)
        for (let j = 0; j < lists.length; j++)
          nodeArgs[(node.each[j] as { element: string }).element] = (lists[j] as unknown[])[i];

      let sub: Sub;
      if (node.category === 'job') {
        if (node.type === undefined) throw new Error(`${this.prefix()}job node has no type`);
        const spec: JobSpec = {
          type: node.type,
          name: node.name,
          retry: node.retry,
          retryWait: node.retryWait,
          sequenceId: seqId,
          sequenceRetry: 0,
          sequenceRetryWait: '',
        };
        let j = this.job(spec, nodeArgs, true);
        if (typeof j !== 'number') j = (yield j) as number;
        sub = { begin: j, end: j };
      } else if (node.category === 'sequence') {
        if (node.type === undefined) throw new Error(`${this.prefix()}sequence node has no type`);
        sub = yield* this.sequence(node.type, namesOf(node).sequence, nodeArgs, node.retry, node.retryWait);
      } else {
        if (node.if !== undefined && Object.hasOwn(args, node.if)) nodeArgs[node.if] = args[node.if];
        const chosen = this.choose(node, nodeArgs);
        sub = yield* this.sequence(chosen, namesOf(node).conditional, nodeArgs, node.retry, node.retryWait);
      }

      // With several iterations the last one's values win (as in the original).
      for (const s of node.sets) {
        if (!Object.hasOwn(nodeArgs, s.arg)) {
          throw this.buildError(`expected ${node.type ?? node.name} to set ${s.arg} in jobargs`, s.arg);
        }
        args[s.as] = nodeArgs[s.arg];
      }
      subs.push(sub);
    }
    if (subs.length === 1) return subs[0] as Sub;
    return yield* this.combine(node, subs, seqId);
  }

  /** Joins a node's iterations (§6.5): placeholder for none, batches of `parallel` in series for many. */
  private *combine(node: NodeSpec, subs: Sub[], seqId: string): Step<Sub> {
    const g = this.graph;
    if (subs.length === 0) {
      let pb = this.job(noopSpec(namesOf(node).noop.begin, seqId), {}, false);
      if (typeof pb !== 'number') pb = (yield pb) as number;
      let pe = this.job(noopSpec(namesOf(node).noop.end, seqId), {}, false);
      if (typeof pe !== 'number') pe = (yield pe) as number;
      g.addEdge(pb, pe);
      return { begin: pb, end: pe };
    }
    const names = namesOf(node).repeat;
    let ob = this.job(noopSpec(names.begin, seqId), {}, false);
    if (typeof ob !== 'number') ob = (yield ob) as number;
    let oe = this.job(noopSpec(names.end, seqId), {}, false);
    if (typeof oe !== 'number') oe = (yield oe) as number;
    const n = subs.length;
    const per = node.parallel !== undefined && node.parallel > 0 ? Math.min(node.parallel, n) : n;
    let prev = ob;
    for (let start = 0; start < n; start += per) {
      let bb = this.job(noopSpec(names.begin, seqId), {}, false);
      if (typeof bb !== 'number') bb = (yield bb) as number;
      let be = this.job(noopSpec(names.end, seqId), {}, false);
      if (typeof be !== 'number') be = (yield be) as number;
      g.addEdge(prev, bb);
      const stop = Math.min(start + per, n);
      for (let k = start; k < stop; k++) {
        const s = subs[k] as Sub;
        g.addEdge(bb, s.begin);
        g.addEdge(s.end, be);
      }
      prev = be;
    }
    g.addEdge(prev, oe);
    return { begin: ob, end: oe };
  }

  /** The `each:` lists of a node, copied, all of the same length. */
  private eachLists(node: NodeSpec, args: JobArgs): unknown[][] {
    const entries = () => `each:[${node.each.map((e) => `${e.list}:${e.element}`).join(' ')}]`;
    const lists: unknown[][] = [];
    for (const e of node.each) {
      if (!Object.hasOwn(args, e.list)) {
        throw this.buildError(`invalid 'each:' ${entries()}: arg ${e.list} not set`, e.list);
      }
      const value = args[e.list];
      if (!Array.isArray(value)) {
        throw this.buildError(
          `invalid 'each:' ${entries()}: arg ${e.list} is a ${kindOf(value)}, expected a list`,
          e.list,
        );
      }
      lists.push(value.slice());
    }
    const len = (lists[0] as unknown[]).length;
    if (lists.some((l) => l.length !== len)) {
      const lens = node.each.map((e, i) => `${e.list} has ${(lists[i] as unknown[]).length}`).join(', ');
      throw this.buildError(
        `invalid 'each:' ${entries()}: each lists have different lengths (${lens})`,
        node.each[0]?.list,
      );
    }
    return lists;
  }

  /** The sequence a conditional node runs (§6.4). */
  private choose(node: NodeSpec, nodeArgs: JobArgs): string {
    const ifArg = node.if;
    if (ifArg === undefined) throw new Error(`${this.prefix()}conditional node has no 'if'`);
    if (!Object.hasOwn(nodeArgs, ifArg)) {
      throw this.buildError(`'if' not provided for conditional node: job arg ${ifArg} is not set`, ifArg);
    }
    const value = nodeArgs[ifArg];
    if (typeof value !== 'string') throw this.buildError(`'if' arg '${ifArg}' is not a string`, ifArg);
    if (Object.hasOwn(node.eq, value)) return node.eq[value] as string;
    if (Object.hasOwn(node.eq, 'default')) return node.eq.default as string;
    const options = Object.keys(node.eq).sort().join(', ');
    throw this.buildError(`'if: ${ifArg}' value '${value}' does not match any options: ${options}`, ifArg);
  }

  /**
   * Creates one job (§6.3): id, make, snapshot of the args, create, serialize.
   * Returns its graph index, or a promise of it when the job's create or
   * serialize is asynchronous.
   */
  private job(spec: JobSpec, args: JobArgs, record: boolean): number | Promise<number> {
    const id = this.ids.next();
    const impl = this.make(spec.type, spec.name, id);
    const recorded = record ? snapshot(args) : undefined;
    let created: unknown;
    try {
      created = impl.create(args);
    } catch (err) {
      throw this.createError(spec, err);
    }
    if (isThenable(created)) return this.finishAsync(spec, id, impl, recorded, created);
    let bytes: unknown;
    try {
      bytes = impl.serialize();
    } catch (err) {
      throw this.serializeError(spec, err);
    }
    if (isThenable(bytes)) return this.finishAsync(spec, id, impl, recorded, undefined, bytes);
    return this.add(spec, id, bytes, recorded);
  }

  private async finishAsync(
    spec: JobSpec,
    id: string,
    impl: Job,
    recorded: JobArgs | undefined,
    created: PromiseLike<unknown> | undefined,
    serialized?: PromiseLike<unknown>,
  ): Promise<number> {
    if (created) {
      try {
        await created;
      } catch (err) {
        throw this.createError(spec, err);
      }
    }
    let bytes: unknown;
    try {
      bytes = await (serialized ?? impl.serialize());
    } catch (err) {
      throw this.serializeError(spec, err);
    }
    return this.add(spec, id, bytes, recorded);
  }

  private make(type: string, name: string, id: string): Job {
    const jobId = { type, name, id, requestId: this.requestId };
    if (type === NOOP && this.builtinNoop) return new BuiltinNoopJob(jobId);
    let impl: Job | undefined;
    try {
      impl = this.factory.make(jobId);
    } catch (err) {
      if (type === NOOP && isUnknownJobType(err)) {
        this.builtinNoop = true;
        return new BuiltinNoopJob(jobId);
      }
      throw new JobFactoryError(
        `${this.prefix()}cannot build job: Error making '${type} ${name}' job: ${errorText(err)}`,
        type,
        name,
        err,
      );
    }
    if (!impl) {
      if (type === NOOP) return new BuiltinNoopJob(jobId);
      throw new JobFactoryError(
        `${this.prefix()}cannot build job: Error making '${type} ${name}' job: the job factory returned nothing`,
        type,
        name,
        undefined,
      );
    }
    return impl;
  }

  /** Stores the finished wire job (keys in wire order, empty optional keys omitted). */
  private add(spec: JobSpec, id: string, bytes: unknown, recorded: JobArgs | undefined): number {
    const job = { id, name: spec.name, type: spec.type } as WireJob;
    if (bytes !== undefined && bytes !== null) {
      if (!ArrayBuffer.isView(bytes)) {
        throw new JobFactoryError(
          `${this.prefix()}cannot build job: Error serializing '${spec.type} ${spec.name}' job: serialize returned ${typeof bytes}, expected bytes`,
          spec.type,
          spec.name,
          undefined,
        );
      }
      if (bytes.byteLength > 0)
        job.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    }
    job.state = State.PENDING;
    if (recorded) job.args = recorded;
    job.retry = spec.retry;
    if (spec.retryWait) job.retryWait = spec.retryWait;
    job.sequenceId = spec.sequenceId || id;
    job.sequenceRetry = spec.sequenceRetry;
    if (spec.sequenceRetryWait) job.sequenceRetryWait = spec.sequenceRetryWait;
    return this.graph.add(job);
  }

  private idOf(index: number): string {
    return (this.graph.jobs[index] as WireJob).id;
  }

  /** `in seq A, node x: in seq B, node y: ` for the current position. */
  private prefix(): string {
    let out = '';
    for (let i = 0; i < this.seqStack.length; i++)
      out += `in seq ${this.seqStack[i]}, node ${this.nodeStack[i]}: `;
    return out;
  }

  private context(arg?: string, cause?: unknown) {
    const depth = this.seqStack.length;
    return {
      requestType: this.requestType,
      sequence: depth > 0 ? this.seqStack[depth - 1] : this.requestType,
      node: depth > 0 ? this.nodeStack[depth - 1] : undefined,
      arg,
      cause,
    };
  }

  private buildError(message: string, arg?: string): ChainBuildError {
    return new ChainBuildError(this.prefix() + message, this.context(arg));
  }

  private createError(spec: JobSpec, err: unknown): JobCreateError {
    const arg = (err as { arg?: unknown } | null)?.arg;
    return new JobCreateError(
      `${this.prefix()}cannot build job: Error creating '${spec.type} ${spec.name}' job: ${errorText(err)}`,
      {
        ...this.context(typeof arg === 'string' ? arg : undefined, err),
        jobType: spec.type,
        jobName: spec.name,
      },
    );
  }

  private serializeError(spec: JobSpec, err: unknown): JobFactoryError {
    return new JobFactoryError(
      `${this.prefix()}cannot build job: Error serializing '${spec.type} ${spec.name}' job: ${errorText(err)}`,
      spec.type,
      spec.name,
      err,
    );
  }
}

function noopSpec(name: string, sequenceId: string, sequenceRetry = 0, sequenceRetryWait = ''): JobSpec {
  return { type: NOOP, name, retry: 0, retryWait: '', sequenceId, sequenceRetry, sequenceRetryWait };
}
