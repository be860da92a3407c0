export * from './config.js';
export * from './http-app.js';
export * from './logger.js';
export * from './micro-batcher.js';
export * from './server.js';
export * from './server-config.js';
export * from './shutdown.js';
export * from './token-file.js';
