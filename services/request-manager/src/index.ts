/** Public entry of the RM package (for in-process use and tests). */
export * from './app.js';
export * from './auth.js';
export * from './catalog.js';
export * from './config.js';
export * from './db/data-source.js';
export * from './find-query.js';
export * from './jr-pool.js';
export * from './request-service.js';
export * from './resumer.js';
export * from './rm.js';
export * from './running-status.js';
export * from './stores/job-log-store.js';
export * from './stores/request-store.js';
export * from './stores/sjc-store.js';
