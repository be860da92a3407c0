export * from './args.js';
export { BaseJob } from './base-job.js';
export * from './builtin/index.js';
export { formatDuration, toMillis } from './duration.js';
export * from './errors.js';
export * from './factory.js';
export * from './job.js';
export { factoryFromModule, loadJobFactory } from './load.js';
