/** What the kit returns: every try of a job as the Job Runner logged it, and whole runs. */
import type { JobArgs, JobData, JobLog } from '@spincycle/protocol';
import { stateName } from '@spincycle/protocol';

/** One try of a job: its job-log entry. */
export interface TryResult {
  /** The try number, counting every try of the job (as in the job log). */
  try: number;
  /** COMPLETE, FAIL or STOPPED (`State.*`). */
  state: number;
  /** `COMPLETE`, `FAIL`, `STOPPED`. */
  stateName: string;
  exit: number;
  error: string;
  stdout: string;
  stderr: string;
}

/** A job of a run chain. */
export interface JobRun {
  id: string;
  name: string;
  type: string;
  /** The job's final state in the chain (PENDING for a job that never ran). */
  state: number;
  stateName: string;
  /** Every try, in order (empty when the job never ran). */
  tries: TryResult[];
  /** The job's data at the end: what it passed on to later jobs. */
  data: JobData;
  /** The args recorded for the job when the chain was built (before its `create`). */
  args: JobArgs | undefined;
}

/** The outcome of `runJob`: the last try's result, every try, and what the job left behind. */
export interface JobResult extends Omit<TryResult, 'try'> {
  tries: TryResult[];
  /** Job data after the run: what later jobs would get. */
  data: JobData;
  /** The job args after `create`: the keys it set are what later nodes of a spec see (`sets`). */
  args: JobArgs;
  /** What `serialize()` wrote on the Request Manager side. */
  bytes: Uint8Array;
  /** `status()` of the Job Runner's instance after the run. */
  status: string;
}

/** A job-log entry as a TryResult. */
export function tryResult(e: JobLog): TryResult {
  return {
    try: e.try,
    state: e.state,
    stateName: stateName(e.state),
    exit: e.exit,
    error: e.error,
    stdout: e.stdout,
    stderr: e.stderr,
  };
}
