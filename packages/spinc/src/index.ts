/** @spincycle/spinc: the Spin Cycle command-line client, callable in-process for tests and tools. */
export { runSpinc, COMMAND_TABLE } from './run.js';
export type { SpincIO, OutStream } from './context.js';
export { Context } from './context.js';
export { ExitCode, SpincError, UsageError, SilentExit, describeApiError } from './errors.js';
export * from './options.js';
export * from './output.js';
export * from './find-filter.js';
export * from './request-args.js';
export { exitCodeForState, progressBar, failedJobs } from './follow.js';
export { psLines } from './commands/ps.js';
export { findLines } from './commands/find.js';
export { formatLog, sortLogs } from './commands/log.js';
export { missingArgsMessage } from './commands/start.js';
