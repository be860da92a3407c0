/**
 * The API's JSON shapes as the browser sees them, derived from @spincycle/protocol's
 * types (imported as types only, so nothing of the protocol package is bundled) so
 * the UI and the API cannot drift. JSON.parse turns the protocol's nanosecond bigints
 * into numbers (precise to about a microsecond, plenty for display).
 */
import type {
  ErrorBody,
  JobChain,
  JobLog,
  JobRunnerInfo,
  JobStatus,
  Job as ProtocolJob,
  Request as ProtocolRequest,
  RunningStatus as ProtocolRunningStatus,
  RequestArg,
  RequestSpec,
  StateName,
  StateValue,
} from '@spincycle/protocol';

type Parsed<T> = { [K in keyof T]: T[K] extends bigint ? number : T[K] };

export type Job = ProtocolJob;
export type Chain = JobChain;
export type Request = ProtocolRequest;
export type Log = Parsed<JobLog>;
type RunningJob = Parsed<JobStatus>;
export type RunningStatus = Omit<ProtocolRunningStatus, 'jobs'> & { jobs: RunningJob[] };
export type { ErrorBody, JobRunnerInfo, RequestArg, RequestSpec, StateName, StateValue };

/** The protocol's state values, repeated here (a value import would bundle the package); `satisfies` keeps them equal. */
export const State = {
  UNKNOWN: 0,
  PENDING: 1,
  RUNNING: 2,
  COMPLETE: 3,
  FAIL: 4,
  RESERVED: 5,
  STOPPED: 6,
  SUSPENDED: 7,
} as const satisfies Record<StateName, StateValue>;

const NAMES = Object.keys(State) as StateName[];

export function stateName(value: number): StateName {
  return NAMES[value] ?? 'UNKNOWN';
}

export function isFinal(value: number): boolean {
  return value === State.COMPLETE || value === State.FAIL || value === State.STOPPED;
}
