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
import type { JobArgs, JobChain, RequestArg } from '@spincycle/protocol';
import {
  isUnknownJobType,
  type Job,
  type JobFactory,
  type NodeSpec,
  NoopJob,
  type SequenceSpec,
  type SpecSet,
  topologicalOrder,
} from './deps.js';
import { ChainBuildError, errorText, JobCreateError, JobFactoryError } from './errors.js';
import { RequestGraph } from './graph.js';
import { JobIdGenerator } from './job-id.js';
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
    const g = this.graph;

    let wb = this.job(NOOP, wrapper.begin, {}, false, 0, '', '', seqRetry, seqRetryWait);
    if (typeof wb !== 'number') wb = (yield wb) as number;
    const seqId = g.id(wb);
    let we = this.noop(wrapper.end, seqId);
    if (typeof we !== 'number') we = (yield we) as number;
    if (!seq || !plan) {
      g.addEdge(wb, we);
      return { begin: wb, end: we };
    }

    let sb = this.noop(plan.own.begin, seqId);
    if (typeof sb !== 'number') sb = (yield sb) as number;
    g.addEdge(wb, sb);

    const ends = new Array<number>(plan.nodes.length);
    for (let k = 0; k < plan.nodes.length; k++) {
      const node = plan.nodes[k] as NodeSpec;
      this.seqStack.push(seq.name);
      this.nodeStack.push(node.name);
      let begin: number;
      let end: number;
      if (node.category === 'job' && node.each.length === 0) {
        // The common case, without the per-node generator and Sub object.
        const nodeArgs = this.nodeArgs(node, args, undefined, 0);
        let j = this.jobNode(node, nodeArgs, seqId);
        if (typeof j !== 'number') j = (yield j) as number;
        this.applySets(node, args, nodeArgs);
        begin = j;
        end = j;
      } else {
        const sub = yield* this.node(node, args, seqId);
        begin = sub.begin;
        end = sub.end;
      }
      this.seqStack.pop();
      this.nodeStack.pop();
      const deps = plan.deps[k] as number[];
      if (deps.length === 0) g.addEdge(sb, begin);
      else for (const d of deps) g.addEdge(ends[d] as number, begin);
      ends[k] = end;
    }

    let se = this.noop(plan.own.end, seqId);
    if (typeof se !== 'number') se = (yield se) as number;
    if (plan.sinks.length === 0) g.addEdge(sb, se);
    else for (const k of plan.sinks) g.addEdge(ends[k] as number, se);
    g.addEdge(se, we);
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
      const nodeArgs = this.nodeArgs(node, args, lists, i);
      let sub: Sub;
      if (node.category === 'job') {
        let j = this.jobNode(node, nodeArgs, seqId);
        if (typeof j !== 'number') j = (yield j) as number;
        sub = { begin: j, end: j };
      } else if (node.category === 'sequence') {
        if (node.type === undefined) throw new Error(`${this.prefix()}sequence node has no type`);
        sub = yield* this.sequence(node.type, namesOf(node).sequence, nodeArgs, node.retry, node.retryWait);
      } else if (node.category === 'conditional') {
        if (node.if !== undefined && Object.hasOwn(args, node.if)) nodeArgs[node.if] = args[node.if];
        const chosen = this.choose(node, nodeArgs);
        sub = yield* this.sequence(chosen, namesOf(node).conditional, nodeArgs, node.retry, node.retryWait);
      } else {
        throw new Error(`${this.prefix()}invalid node category: ${String(node.category)}`);
      }
      this.applySets(node, args, nodeArgs);
      subs.push(sub);
    }
    if (subs.length === 1) return subs[0] as Sub;
    return yield* this.combine(node, subs, seqId);
  }

  /** The node's inputs: only its declared `args` (renamed) and its `each:` elements. */
  private nodeArgs(node: NodeSpec, args: JobArgs, lists: unknown[][] | undefined, i: number): JobArgs {
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
    if (lists) {
      for (let j = 0; j < lists.length; j++) {
        nodeArgs[(node.each[j] as { element: string }).element] = (lists[j] as unknown[])[i];
      }
    }
    return nodeArgs;
  }

  /** Copies the node's declared outputs into the invocation's args; with several iterations the last wins. */
  private applySets(node: NodeSpec, args: JobArgs, nodeArgs: JobArgs): void {
    for (const s of node.sets) {
      if (!Object.hasOwn(nodeArgs, s.arg)) {
        throw this.buildError(`expected ${node.type ?? node.name} to set ${s.arg} in jobargs`, s.arg);
      }
      args[s.as] = nodeArgs[s.arg];
    }
  }

  private jobNode(node: NodeSpec, nodeArgs: JobArgs, seqId: string): number | Promise<number> {
    if (node.type === undefined) throw new Error(`${this.prefix()}job node has no type`);
    return this.job(node.type, node.name, nodeArgs, true, node.retry, node.retryWait, seqId, 0, '');
  }

  /** Joins a node's iterations (§6.5): placeholder for none, batches of `parallel` in series for many. */
  private *combine(node: NodeSpec, subs: Sub[], seqId: string): Step<Sub> {
    const g = this.graph;
    if (subs.length === 0) {
      const names = namesOf(node).noop;
      let pb = this.noop(names.begin, seqId);
      if (typeof pb !== 'number') pb = (yield pb) as number;
      let pe = this.noop(names.end, seqId);
      if (typeof pe !== 'number') pe = (yield pe) as number;
      g.addEdge(pb, pe);
      return { begin: pb, end: pe };
    }
    const names = namesOf(node).repeat;
    let ob = this.noop(names.begin, seqId);
    if (typeof ob !== 'number') ob = (yield ob) as number;
    let oe = this.noop(names.end, seqId);
    if (typeof oe !== 'number') oe = (yield oe) as number;
    const n = subs.length;
    const per = node.parallel !== undefined && node.parallel > 0 ? Math.min(node.parallel, n) : n;
    let prev = ob;
    for (let start = 0; start < n; start += per) {
      let bb = this.noop(names.begin, seqId);
      if (typeof bb !== 'number') bb = (yield bb) as number;
      let be = this.noop(names.end, seqId);
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

  /** A structural noop job (created with an empty args map, no recorded args, no retries). */
  private noop(name: string, seqId: string): number | Promise<number> {
    return this.job(NOOP, name, {}, false, 0, '', seqId, 0, '');
  }

  /**
   * Creates one job (§6.3): id, make, snapshot of the args, create, serialize.
   * Returns its graph index, or a promise of it when the job's create or
   * serialize is asynchronous. `seqId` `''` makes the job its own sequence start.
   */
  private job(
    type: string,
    name: string,
    args: JobArgs,
    record: boolean,
    retry: number,
    retryWait: string,
    seqId: string,
    seqRetry: number,
    seqRetryWait: string,
  ): number | Promise<number> {
    const id = this.ids.next();
    const impl = this.make(type, name, id);
    const recorded = record ? snapshot(args) : undefined;
    let created: unknown;
    try {
      created = impl.create(args);
    } catch (err) {
      throw this.createError(type, name, err);
    }
    let bytes: unknown;
    if (!isThenable(created)) {
      try {
        bytes = impl.serialize();
      } catch (err) {
        throw this.serializeError(type, name, err);
      }
      if (!isThenable(bytes)) {
        return this.add(
          id,
          name,
          type,
          bytes,
          recorded,
          retry,
          retryWait,
          seqId || id,
          seqRetry,
          seqRetryWait,
        );
      }
    }
    // An asynchronous job: finish it in a promise, which the build generator yields.
    const finish = async (): Promise<number> => {
      if (isThenable(created)) {
        try {
          await created;
        } catch (err) {
          throw this.createError(type, name, err);
        }
        try {
          bytes = impl.serialize();
        } catch (err) {
          throw this.serializeError(type, name, err);
        }
      }
      try {
        bytes = await bytes;
      } catch (err) {
        throw this.serializeError(type, name, err);
      }
      return this.add(id, name, type, bytes, recorded, retry, retryWait, seqId || id, seqRetry, seqRetryWait);
    };
    return finish();
  }

  private make(type: string, name: string, id: string): Job {
    const jobId = { type, name, id, requestId: this.requestId };
    if (type === NOOP && this.builtinNoop) return new NoopJob(jobId);
    let impl: Job | undefined;
    try {
      impl = this.factory.make(jobId);
    } catch (err) {
      if (type === NOOP && isUnknownJobType(err)) {
        this.builtinNoop = true;
        return new NoopJob(jobId);
      }
      throw new JobFactoryError(
        `${this.prefix()}cannot build job: Error making '${type} ${name}' job: ${errorText(err)}`,
        type,
        name,
        err,
      );
    }
    if (!impl) {
      if (type === NOOP) return new NoopJob(jobId);
      throw new JobFactoryError(
        `${this.prefix()}cannot build job: Error making '${type} ${name}' job: the job factory returned nothing`,
        type,
        name,
        undefined,
      );
    }
    return impl;
  }

  /** Stores the finished job in the graph. */
  private add(
    id: string,
    name: string,
    type: string,
    bytes: unknown,
    args: JobArgs | undefined,
    retry: number,
    retryWait: string,
    sequenceId: string,
    sequenceRetry: number,
    sequenceRetryWait: string,
  ): number {
    let b64 = '';
    if (bytes !== undefined && bytes !== null) {
      if (!ArrayBuffer.isView(bytes)) {
        throw new JobFactoryError(
          `${this.prefix()}cannot build job: Error serializing '${type} ${name}' job: serialize returned ${typeof bytes}, expected bytes`,
          type,
          name,
          undefined,
        );
      }
      if (bytes.byteLength > 0)
        b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    }
    return this.graph.add(
      id,
      name,
      type,
      b64,
      args,
      retry,
      retryWait,
      sequenceId,
      sequenceRetry,
      sequenceRetryWait,
    );
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

  private createError(type: string, name: string, err: unknown): JobCreateError {
    const arg = (err as { arg?: unknown } | null)?.arg;
    return new JobCreateError(
      `${this.prefix()}cannot build job: Error creating '${type} ${name}' job: ${errorText(err)}`,
      {
        ...this.context(typeof arg === 'string' ? arg : undefined, err),
        jobType: type,
        jobName: name,
      },
    );
  }

  private serializeError(type: string, name: string, err: unknown): JobFactoryError {
    return new JobFactoryError(
      `${this.prefix()}cannot build job: Error serializing '${type} ${name}' job: ${errorText(err)}`,
      type,
      name,
      err,
    );
  }
}
