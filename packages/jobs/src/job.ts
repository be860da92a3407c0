/**
 * The job API that job authors implement. The RM calls
 * `make`, `create`, `serialize`; the JR calls `make`, `deserialize`, `run`,
 * `stop`, `status`. Methods that may block are async; `create` and
 * `deserialize` may also be synchronous (the chain builder only awaits a
 * returned promise, which keeps building large chains fast).
 */
import type { JobArgs, JobData, StateValue } from '@spincycle/protocol';

/** Identity of one job instance. */
export interface JobId {
  type: string;
  name: string;
  id: string;
  requestId: string;
}

/** What `run` returns. Only `state` drives control flow. */
export interface JobReturn {
  /** Must be a final state: COMPLETE, FAIL or STOPPED. Anything else is treated as FAIL. */
  state: StateValue | number;
  exit?: number;
  error?: string;
  stdout?: string;
  stderr?: string;
}

export interface Job {
  id(): JobId;
  /**
   * RM side, once, when the request is created. May read and change `jobArgs`
   * (adding keys is how a job "sets" args for later nodes). Throw to reject
   * the args: the caller gets HTTP 400 with the message.
   */
  create(jobArgs: JobArgs): void | Promise<void>;
  /** RM side: the job's state to carry to the JR. Empty bytes are fine. */
  serialize(): Uint8Array | Promise<Uint8Array>;
  /** JR side: restore what `serialize` produced. */
  deserialize(bytes: Uint8Array): void | Promise<void>;
  /** JR side: do the work. `jobData` is shared with later jobs and may be changed in place. */
  run(jobData: JobData): Promise<JobReturn>;
  /** JR side: make a running `run` return soon (with STOPPED). Must be idempotent. */
  stop(): void | Promise<void>;
  /** JR side: a short real-time status line. */
  status(): string;
}

/** Makes jobs by type. Throw UnknownJobTypeError for types it does not know. */
export interface JobFactory {
  make(id: JobId): Job;
  /** Job types this factory knows, when it can tell (used by checks and docs). */
  types?(): string[];
}

/** Thrown by a factory asked for a type it does not make. */
export class UnknownJobTypeError extends Error {
  constructor(readonly jobType: string) {
    super(`unknown job type: ${jobType}`);
    this.name = 'UnknownJobTypeError';
  }
}
