/** What this package uses from @spincycle/spec and @spincycle/jobs, in one place. */

export {
  isUnknownJobTypeError as isUnknownJobType,
  type Job,
  type JobFactory,
  type JobId,
  NoopJob,
} from '@spincycle/jobs';
export type { NodeSpec, SequenceSpec, SpecSet } from '@spincycle/spec';
export { topologicalOrder } from '@spincycle/spec';
