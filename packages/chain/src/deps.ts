/** What this package uses from @spincycle/spec and @spincycle/jobs, in one place. */

export type { Job, JobFactory } from '@spincycle/jobs';
export type { ArgSpec, NodeSpec, SequenceSpec, SpecSet } from '@spincycle/spec';
export { argPatternRegExp, topologicalOrder } from '@spincycle/spec';
