/**
 * A suspended chain handed back by a Job Runner must be the chain the RM sent,
 * as it ran: the same jobs (ids, types, names, serialized `bytes`, args and
 * retry settings) and the same edges. Only job data, job states and the try
 * counters may differ. Anything else (a job added, a type changed, an edge
 * moved) would make the RM resume, on any Job Runner, a chain no spec built.
 */
import { type Job, type JobChain, stringifyJson, ValidationError } from '@spincycle/protocol';

/** The fields of a job that running it never changes. */
const FIXED: ReadonlyArray<keyof Job> = [
  'name',
  'type',
  'bytes',
  'args',
  'retry',
  'retryWait',
  'sequenceId',
  'sequenceRetry',
  'sequenceRetryWait',
];

/** Omitted and empty are one value on the wire (`bytes`, `args`, durations are omitted when empty). */
function fixedValue(job: Job, key: keyof Job): string {
  const v = job[key];
  if (v === undefined || v === null || v === '') return '';
  if (typeof v === 'object' && Object.keys(v).length === 0) return '';
  return typeof v === 'string' ? v : stringifyJson(v);
}

const successors = (chain: JobChain, id: string) => [...(chain.adjacencyList[id] ?? [])].sort().join(',');

/** The first difference between the stored chain and a suspended one, or undefined when the suspended one may be taken. */
export function chainDifference(stored: JobChain, suspended: JobChain): string | undefined {
  const jobs = suspended.jobs ?? {};
  for (const id of Object.keys(jobs))
    if (!Object.hasOwn(stored.jobs, id)) return `job ${id} is not in the request's job chain`;
  for (const [id, job] of Object.entries(stored.jobs)) {
    const got = jobs[id];
    if (!got) return `job ${id} (${job.name}) is missing`;
    for (const key of FIXED)
      if (fixedValue(job, key) !== fixedValue(got, key)) return `job ${id} (${job.name}): ${key} differs`;
  }
  for (const id of new Set([
    ...Object.keys(stored.adjacencyList),
    ...Object.keys(suspended.adjacencyList ?? {}),
  ]))
    if (successors(stored, id) !== successors(suspended, id))
      return `the successors of job ${id} differ: [${successors(stored, id)}] stored, [${successors(suspended, id)}] given`;
  return undefined;
}

/** Throws a 400 naming the first difference (`what`: "suspended job chain of request X"). */
export function assertSameChain(stored: JobChain, suspended: JobChain, what: string): void {
  const diff = chainDifference(stored, suspended);
  if (diff !== undefined)
    throw new ValidationError(
      `invalid SuspendedJobChain: ${what} is not the chain the RM sent: ${diff}`,
      'jobChain',
    );
}
