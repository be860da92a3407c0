/**
 * Runs a job chain in-process exactly as a Job Runner does: the chain goes
 * through JSON and the JR's validation (as it would over HTTP), then the
 * shared traversal (@spincycle/traversal) runs it with an in-memory reporter
 * instead of the RM. Nothing listens on a port and nothing needs a database.
 */
import type { Job, JobFactory } from '@spincycle/jobs';
import {
  type FinishRequest,
  type JobChain,
  type JobLog,
  parseDurationMs,
  parseJson,
  stateName,
  stringifyJson,
} from '@spincycle/protocol';
import {
  type ChainReporter,
  ChainState,
  type Delivery,
  JobSlots,
  silentTraversalLogger,
  type TraversalLogger,
  Traverser,
  validateJobChain,
} from '@spincycle/traversal';
import { type JobRun, tryResult } from './results.js';

export interface ChainRunOptions {
  /**
   * Multiplies every `retryWait` and `sequenceRetryWait` of the chain (default 1:
   * the real waits). `0` skips them, so a test of retries takes no time.
   * The waits are timers, so fake timers (`vi.useFakeTimers()`) work as well.
   */
  waitScale?: number;
  /** Most jobs running at once (the JR's `jobs.max_concurrent`; default 0 = no limit). */
  maxConcurrent?: number;
  /** How long a stop waits for running jobs to return before failing them (default 10 s, as the JR). */
  stopBudgetMs?: number;
  /** Where traversal logs problems (default: nowhere). */
  logger?: TraversalLogger;
}

/** Job-log entries and the finish, kept in memory in place of the Request Manager. */
export class MemoryReporter implements ChainReporter {
  readonly entries: JobLog[] = [];
  finished: FinishRequest | undefined;

  log(entry: JobLog): void {
    this.entries.push(entry);
  }

  async finish(body: FinishRequest): Promise<Delivery> {
    this.finished = body;
    return { delivered: true };
  }

  async suspend(): Promise<Delivery> {
    return { delivered: false, reason: 'the testing kit does not suspend chains', rejected: true };
  }
}

/** A chain being run; `done` settles with its final state. */
export interface ChainRun {
  readonly traverser: Traverser;
  readonly reporter: MemoryReporter;
  /** The Job Runner side's job instances by job id, as the factory made them (one per run of the job). */
  readonly made: Map<string, Job[]>;
  readonly done: Promise<number>;
  /** The jobs in topological order with their tries, as they are now. */
  jobs(): JobRun[];
}

function scaled(wait: string | undefined, scale: number): string | undefined {
  if (!wait || scale === 1) return wait;
  const ms = Math.round(parseDurationMs(wait) * scale);
  return ms > 0 ? `${ms}ms` : undefined;
}

/** A factory that also records every job it makes. */
function recording(factory: JobFactory, made: Map<string, Job[]>): JobFactory {
  return {
    make(id) {
      const job = factory.make(id);
      const list = made.get(id.id) ?? [];
      list.push(job);
      made.set(id.id, list);
      return job;
    },
    ...(factory.types ? { types: () => factory.types?.() ?? [] } : {}),
  };
}

/** Start running `chain` (as the RM sent it) with `factory` making the jobs. */
export function startChain(chain: JobChain, factory: JobFactory, opts: ChainRunOptions = {}): ChainRun {
  // Over the wire as the RM sends it: what a job cannot carry in JSON does not arrive.
  const wire = parseJson(stringifyJson(chain)) as JobChain;
  const scale = opts.waitScale ?? 1;
  if (!(scale >= 0)) throw new RangeError(`waitScale must be a number >= 0, got ${scale}`);
  for (const job of Object.values(wire.jobs)) {
    job.retryWait = scaled(job.retryWait, scale);
    job.sequenceRetryWait = scaled(job.sequenceRetryWait, scale);
  }
  const state = new ChainState(validateJobChain(wire, 'new'));
  const reporter = new MemoryReporter();
  const made = new Map<string, Job[]>();
  const traverser = new Traverser(state, {
    factory: recording(factory, made),
    reporter,
    slots: new JobSlots(opts.maxConcurrent ?? 0),
    logger: opts.logger ?? silentTraversalLogger,
    stopBudgetMs: opts.stopBudgetMs,
  });
  traverser.start();
  const jobs = (): JobRun[] =>
    state.order.map((n) => ({
      id: n.id,
      name: n.job.name,
      type: n.job.type,
      state: n.job.state,
      stateName: stateName(n.job.state),
      tries: reporter.entries.filter((e) => e.jobId === n.id).map(tryResult),
      data: n.data,
      args: n.job.args,
    }));
  return { traverser, reporter, made, jobs, done: traverser.done.then((o) => o.state) };
}
