/** @spincycle/spinc: the Spin Cycle command-line client, callable in-process for tests and tools. */

export { findLines } from './commands/find.js';
export { formatLog, sortLogs } from './commands/log.js';
export { psLines } from './commands/ps.js';
export { missingArgsMessage } from './commands/start.js';
export type { OutStream, SpincIO } from './context.js';
export { Context } from './context.js';
export { describeApiError, ExitCode, SilentExit, SpincError, UsageError } from './errors.js';
export * from './find-filter.js';
export { exitCodeForState, failedJobs, progressBar } from './follow.js';
export * from './options.js';
export * from './output.js';
export * from './request-args.js';
export { COMMAND_TABLE, runSpinc } from './run.js';
