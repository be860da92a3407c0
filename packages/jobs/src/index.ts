// Types and states job authors need, so a job module can depend on this package alone.
export type { JobArgs, JobData, StateValue } from '@spincycle/protocol';
export { State } from '@spincycle/protocol';
export * from './args.js';
export { BaseJob } from './base-job.js';
export * from './builtin/index.js';
export { formatDuration, MAX_MILLIS, toMillis } from './duration.js';
export * from './errors.js';
export * from './factory.js';
export * from './job.js';
export { factoryFromModule } from './load.js';
