/**
 * Creates the jobs of a chain through the job factory: id, `make`, snapshot of
 * the args, `create`, `serialize`, then stores the job in the graph. The factory
 * is trusted to make every type the chain needs, `noop` included (the
 * structural begin/end jobs); a type it cannot make is a server fault (500).
 */
import type { JobArgs } from '@spincycle/protocol';
import type { Job, JobFactory } from './deps.js';
import { isThenable } from './drive.js';
import { type ErrorContext, errorText, JobCreateError, JobFactoryError } from './errors.js';
import type { JobTiming, RequestGraph } from './graph.js';
import type { JobIdGenerator } from './job-id.js';

/** The type of every structural begin/end job. */
export const NOOP = 'noop';

/** One job to create. */
export interface NewJob {
  type: string;
  name: string;
  /** The job's args; `create` may change them (its `sets`). */
  args: JobArgs;
  /** Record a snapshot of `args` (taken before `create`) in the chain. */
  record: boolean;
  retry: number;
  retryWait: string;
  /** Id of the invocation's start job; `''` makes the job its own sequence start. */
  seqId: string;
  seqRetry: number;
  seqRetryWait: string;
  /** Timeout and backoff fields of the job (job node) or of its sequence (sequence start job). */
  timing?: JobTiming | undefined;
}

/** Where the builder is, for error messages and the job limit. */
export interface BuildPosition {
  /** `in seq A, node x: in seq B, node y: ` */
  prefix(): string;
  context(arg?: string, cause?: unknown): ErrorContext;
  /** Called before each job is made; throws when the chain would exceed its job limit. */
  beforeJob(): void;
}

export class JobCreator {
  constructor(
    private readonly graph: RequestGraph,
    private readonly ids: JobIdGenerator,
    private readonly factory: JobFactory,
    private readonly requestId: string,
    private readonly at: BuildPosition,
  ) {}

  /** A structural noop job (created with an empty args map, no recorded args, no retries). */
  noop(name: string, seqId: string): number | Promise<number> {
    return this.job({
      type: NOOP,
      name,
      args: {},
      record: false,
      retry: 0,
      retryWait: '',
      seqId,
      seqRetry: 0,
      seqRetryWait: '',
    });
  }

  /**
   * Creates one job and returns its graph index, or a promise of it when the
   * job's create or serialize is asynchronous.
   */
  job(spec: NewJob): number | Promise<number> {
    this.at.beforeJob();
    const { type, name } = spec;
    const id = this.ids.next();
    const impl = this.make(type, name, id);
    const recorded = spec.record ? snapshot(spec.args) : undefined;
    let created: unknown;
    try {
      created = impl.create(spec.args);
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
      if (!isThenable(bytes)) return this.add(id, spec, bytes, recorded);
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
      return this.add(id, spec, bytes, recorded);
    };
    return finish();
  }

  private make(type: string, name: string, id: string): Job {
    const jobId = { type, name, id, requestId: this.requestId };
    let impl: Job | undefined;
    try {
      impl = this.factory.make(jobId);
    } catch (err) {
      throw this.factoryError(type, name, errorText(err), err);
    }
    if (!impl) throw this.factoryError(type, name, 'the job factory returned nothing', undefined);
    return impl;
  }

  /** Stores the finished job in the graph. */
  private add(id: string, spec: NewJob, bytes: unknown, args: JobArgs | undefined): number {
    const { type, name } = spec;
    let b64 = '';
    if (bytes !== undefined && bytes !== null) {
      if (!ArrayBuffer.isView(bytes)) {
        throw new JobFactoryError(
          `${this.at.prefix()}cannot build job: Error serializing '${type} ${name}' job: serialize returned ${typeof bytes}, expected bytes`,
          type,
          name,
          undefined,
        );
      }
      if (bytes.byteLength > 0)
        b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    }
    return this.graph.add({
      id,
      name,
      type,
      bytes: b64,
      args,
      retry: spec.retry,
      retryWait: spec.retryWait,
      sequenceId: spec.seqId || id,
      sequenceRetry: spec.seqRetry,
      sequenceRetryWait: spec.seqRetryWait,
      timing: spec.timing,
    });
  }

  private factoryError(type: string, name: string, why: string, cause: unknown): JobFactoryError {
    return new JobFactoryError(
      `${this.at.prefix()}cannot build job: Error making '${type} ${name}' job: ${why}`,
      type,
      name,
      cause,
    );
  }

  private createError(type: string, name: string, err: unknown): JobCreateError {
    const arg = (err as { arg?: unknown } | null)?.arg;
    return new JobCreateError(
      `${this.at.prefix()}cannot build job: Error creating '${type} ${name}' job: ${errorText(err)}`,
      {
        ...this.at.context(typeof arg === 'string' ? arg : undefined, err),
        jobType: type,
        jobName: name,
      },
    );
  }

  private serializeError(type: string, name: string, err: unknown): JobFactoryError {
    return new JobFactoryError(
      `${this.at.prefix()}cannot build job: Error serializing '${type} ${name}' job: ${errorText(err)}`,
      type,
      name,
      err,
    );
  }
}

/** Shallow copy of `args`, or undefined when it has no keys (recorded args are omitted when empty). */
function snapshot(args: JobArgs): JobArgs | undefined {
  for (const _ in args) return { ...args };
  return undefined;
}
