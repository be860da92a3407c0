/**
 * Walks a request's sequences and builds its graph: one invocation per
 * sequence call, nodes in dependency order, `each:` expansions in `parallel`
 * batches, conditional branches, and the structural begin/end jobs that join
 * them. Jobs themselves are made by the JobCreator.
 */
import type { JobArgs } from '@spincycle/protocol';
import type { JobFactory, NodeSpec, SpecSet } from './deps.js';
import type { Step } from './drive.js';
import { ChainBuildError, type ErrorContext, TooManyJobsError } from './errors.js';
import { type JobTiming, RequestGraph } from './graph.js';
import { type BuildPosition, JobCreator, NOOP } from './job-creator.js';
import { JobIdGenerator } from './job-id.js';
import { namesOf, type Pair, planOf } from './plan.js';

/** A built piece of graph: its single first and last job. */
export interface Sub {
  begin: number;
  end: number;
}

/** One invocation of a sequence: which, under which wrapper jobs, with which args and retries. */
export interface Invocation {
  seqName: string;
  wrapper: Pair;
  /** The invocation's working args: its defaults are filled in and its nodes' `sets` write into it. */
  args: JobArgs;
  seqRetry: number;
  seqRetryWait: string;
  /** The calling node's timeout and backoff, as `sequence*` fields of the start job. */
  seqTiming?: JobTiming | undefined;
}

export interface BuilderOptions {
  specs: SpecSet;
  factory: JobFactory;
  requestId: string;
  requestType: string;
  /** Most jobs the chain may have. */
  maxJobs: number;
}

/** An `each:` expansion under way, for the job-limit message. */
interface Expansion {
  list: string;
  count: number;
}

/**
 * A node's `retryBackoff`, `retryWaitMax` and `timeout` under the wire keys given (the job's
 * own, or its sequence's); undefined when none is set. `constant`, the default, is left out.
 */
function timingOf(node: NodeSpec, backoff: keyof JobTiming, max: keyof JobTiming, timeout: keyof JobTiming) {
  if (node.timeout === undefined && node.retryWaitMax === undefined && node.retryBackoff === undefined)
    return undefined;
  const t: JobTiming = {};
  if (node.retryBackoff !== undefined && node.retryBackoff !== 'constant') t[backoff] = node.retryBackoff;
  if (node.retryWaitMax) t[max] = node.retryWaitMax;
  if (node.timeout) t[timeout] = node.timeout;
  return Object.keys(t).length > 0 ? t : undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'map';
  return typeof value;
}

export class Builder implements BuildPosition {
  readonly graph = new RequestGraph();
  private readonly jobs: JobCreator;
  private readonly specs: SpecSet;
  private readonly requestType: string;
  private readonly maxJobs: number;
  /** The `in seq S, node N:` nesting, for error messages. */
  private readonly seqStack: string[] = [];
  private readonly nodeStack: string[] = [];
  private readonly expansions: Expansion[] = [];

  constructor(o: BuilderOptions) {
    this.specs = o.specs;
    this.requestType = o.requestType;
    this.maxJobs = o.maxJobs;
    this.jobs = new JobCreator(this.graph, new JobIdGenerator(), o.factory, o.requestId, this);
  }

  /**
   * One invocation of a sequence: `<wrapper>_begin → <seq>_begin → nodes →
   * <seq>_end → <wrapper>_end`. The wrapper begin job is the invocation's
   * start job: it carries the calling node's sequence retries.
   */
  *sequence(inv: Invocation): Step<Sub> {
    const { seqName, wrapper, args } = inv;
    const seq = this.specs.sequences.get(seqName);
    // Built-in empty `noop` sequence, unless the specs define one.
    if (seq === undefined && seqName !== NOOP) throw new Error(`cannot find specs for sequence: ${seqName}`);
    const plan = seq ? planOf(seq) : undefined;
    if (plan) {
      for (const [name, value] of plan.optional) if (!Object.hasOwn(args, name)) args[name] = value;
      // Static args always have their declared value, even if a parent passed one.
      for (const [name, value] of plan.statics) args[name] = value;
    }
    const g = this.graph;
    const jobs = this.jobs;

    let wb = jobs.job({
      type: NOOP,
      name: wrapper.begin,
      args: {},
      record: false,
      retry: 0,
      retryWait: '',
      seqId: '',
      seqRetry: inv.seqRetry,
      seqRetryWait: inv.seqRetryWait,
      timing: inv.seqTiming,
    });
    if (typeof wb !== 'number') wb = (yield wb) as number;
    const seqId = g.id(wb);
    let we = jobs.noop(wrapper.end, seqId);
    if (typeof we !== 'number') we = (yield we) as number;
    if (!seq || !plan) {
      g.addEdge(wb, we);
      return { begin: wb, end: we };
    }

    let sb = jobs.noop(plan.own.begin, seqId);
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

    let se = jobs.noop(plan.own.end, seqId);
    if (typeof se !== 'number') se = (yield se) as number;
    if (plan.sinks.length === 0) g.addEdge(sb, se);
    else for (const k of plan.sinks) g.addEdge(ends[k] as number, se);
    g.addEdge(se, we);
    return { begin: wb, end: we };
  }

  /** One node of a sequence, expanded over its `each:` lists (one iteration without). */
  private *node(node: NodeSpec, args: JobArgs, seqId: string): Step<Sub> {
    let lists: unknown[][] | undefined;
    let count = 1;
    if (node.each.length > 0) {
      lists = this.eachLists(node, args);
      count = (lists[0] as unknown[]).length;
      this.expansions.push({ list: (node.each[0] as { list: string }).list, count });
      // Each iteration makes at least one job: refuse a list that cannot fit before making any.
      if (this.graph.size + count > this.maxJobs) throw this.tooManyJobs();
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
        sub = yield* this.sequence(this.call(node, node.type, namesOf(node).sequence, nodeArgs));
      } else if (node.category === 'conditional') {
        if (node.if !== undefined && Object.hasOwn(args, node.if)) nodeArgs[node.if] = args[node.if];
        const chosen = this.choose(node, nodeArgs);
        sub = yield* this.sequence(this.call(node, chosen, namesOf(node).conditional, nodeArgs));
      } else {
        throw new Error(`${this.prefix()}invalid node category: ${String(node.category)}`);
      }
      this.applySets(node, args, nodeArgs);
      subs.push(sub);
    }
    if (lists) this.expansions.pop();
    if (subs.length === 1) return subs[0] as Sub;
    return yield* this.combine(node, subs, seqId);
  }

  private call(node: NodeSpec, seqName: string, wrapper: Pair, args: JobArgs): Invocation {
    const seqTiming = timingOf(node, 'sequenceRetryBackoff', 'sequenceRetryWaitMax', 'sequenceTimeout');
    return { seqName, wrapper, args, seqRetry: node.retry, seqRetryWait: node.retryWait, seqTiming };
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
    return this.jobs.job({
      type: node.type,
      name: node.name,
      args: nodeArgs,
      record: true,
      retry: node.retry,
      retryWait: node.retryWait,
      seqId,
      seqRetry: 0,
      seqRetryWait: '',
      timing: timingOf(node, 'retryBackoff', 'retryWaitMax', 'timeout'),
    });
  }

  /**
   * Joins a node's iterations: a `noop_<node>` placeholder pair for none; for
   * several, `repeat_<node>` wrappers around batches of `parallel` iterations
   * that run one batch after the other.
   */
  private *combine(node: NodeSpec, subs: Sub[], seqId: string): Step<Sub> {
    const g = this.graph;
    const jobs = this.jobs;
    if (subs.length === 0) {
      const names = namesOf(node).noop;
      let pb = jobs.noop(names.begin, seqId);
      if (typeof pb !== 'number') pb = (yield pb) as number;
      let pe = jobs.noop(names.end, seqId);
      if (typeof pe !== 'number') pe = (yield pe) as number;
      g.addEdge(pb, pe);
      return { begin: pb, end: pe };
    }
    const names = namesOf(node).repeat;
    let ob = jobs.noop(names.begin, seqId);
    if (typeof ob !== 'number') ob = (yield ob) as number;
    let oe = jobs.noop(names.end, seqId);
    if (typeof oe !== 'number') oe = (yield oe) as number;
    const n = subs.length;
    const per = node.parallel !== undefined && node.parallel > 0 ? Math.min(node.parallel, n) : n;
    let prev = ob;
    for (let start = 0; start < n; start += per) {
      let bb = jobs.noop(names.begin, seqId);
      if (typeof bb !== 'number') bb = (yield bb) as number;
      let be = jobs.noop(names.end, seqId);
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

  // --- BuildPosition: where the builder is, for errors and the job limit -----------

  beforeJob(): void {
    if (this.graph.size >= this.maxJobs) throw this.tooManyJobs();
  }

  prefix(): string {
    let out = '';
    for (let i = 0; i < this.seqStack.length; i++)
      out += `in seq ${this.seqStack[i]}, node ${this.nodeStack[i]}: `;
    return out;
  }

  context(arg?: string, cause?: unknown): ErrorContext {
    const depth = this.seqStack.length;
    const ctx: ErrorContext = {
      requestType: this.requestType,
      sequence: depth > 0 ? (this.seqStack[depth - 1] as string) : this.requestType,
    };
    if (depth > 0) ctx.node = this.nodeStack[depth - 1] as string;
    if (arg !== undefined) ctx.arg = arg;
    if (cause !== undefined) ctx.cause = cause;
    return ctx;
  }

  private buildError(message: string, arg?: string): ChainBuildError {
    return new ChainBuildError(this.prefix() + message, this.context(arg));
  }

  /** Names the innermost `each:` expansion under way (the one that made the chain too big). */
  private tooManyJobs(): TooManyJobsError {
    const e = this.expansions[this.expansions.length - 1];
    const limit = `more than ${this.maxJobs} jobs (the limit)`;
    const why = e
      ? `'each:' over arg ${e.list} (${e.count} elements) makes ${limit}`
      : `the chain has ${limit}`;
    return new TooManyJobsError(`request ${this.requestType}: ${this.prefix()}${why}`, {
      ...this.context(e?.list),
      maxJobs: this.maxJobs,
      count: e ? e.count : this.graph.size,
    });
  }
}
