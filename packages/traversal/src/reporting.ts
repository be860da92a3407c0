/** What a traverser needs from its surroundings: where job-log entries and the final message go, a logger, metrics. */
import type { FinishRequest, JobLog, SuspendedJobChain } from '@spincycle/protocol';

/** How a final message fared: the Job Runner's reporter retries until delivered, rejected or out of time. */
export type Delivery = { delivered: true } | { delivered: false; reason: string; rejected: boolean };

export interface DeliveryOptions {
  /** Give up after this time (epoch ms). Default: never. */
  deadline?: number;
}

/** What a traverser needs from the reporter (over HTTP in the Job Runner, in memory in @spincycle/testing). */
export interface ChainReporter {
  log(entry: JobLog): void;
  finish(body: FinishRequest, opts?: DeliveryOptions): Promise<Delivery>;
  suspend(body: SuspendedJobChain, opts?: DeliveryOptions): Promise<Delivery>;
}

/** The logger calls traversal makes (a winston logger fits). */
export interface TraversalLogger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
  isDebugEnabled(): boolean;
}

/** Called once per job try; start and end in Unix ns (none: it never ran, e.g. its job could not be made). */
export type JobTryHook = (type: string, state: number, startedAt?: bigint, finishedAt?: bigint) => void;

/** A logger that drops everything. */
export const silentTraversalLogger: TraversalLogger = {
  error() {},
  warn() {},
  debug() {},
  isDebugEnabled: () => false,
};
