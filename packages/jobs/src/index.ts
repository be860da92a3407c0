export * from './job.js';
export * from './errors.js';
export * from './args.js';
export { formatDuration, toMillis } from './duration.js';
export { BaseJob } from './base-job.js';
export * from './factory.js';
export * from './builtin/index.js';
export { factoryFromModule, loadJobFactory } from './load.js';
