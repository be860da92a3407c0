// The traversal core lives in @spincycle/traversal; re-exported for code that used it from here.
export * from '@spincycle/traversal';
export * from './api.js';
export * from './app.js';
export * from './config.js';
export * from './progress.js';
export * from './registry.js';
export * from './reporter.js';
export * from './rm-gateway.js';
