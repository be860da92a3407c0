/** @spincycle/spinc: the Spin Cycle command-line client, callable in-process for tests and tools. */

export { findLines } from './commands/find.js';
export { psLines } from './commands/ps.js';
export { missingArgsMessage } from './commands/start.js';
export type { OutStream, SpincIO } from './context.js';
export { Context } from './context.js';
export { describeApiError, ExitCode, SilentExit, SpincError, UsageError } from './errors.js';
export {
  DEFAULT_FIND_LIMIT,
  FIND_FILTERS,
  type FindQuery,
  parseFilterTime,
  parseFindFilters,
} from './find-filter.js';
export { exitCodeForState, failedJobs, progressBar } from './follow.js';
export { formatLog, sortLogs } from './log-format.js';
export {
  type CommandLine,
  type ConfigLoadResult,
  type ConfigValues,
  configFileList,
  DEFAULT_ADDR,
  DEFAULT_TIMEOUT_MS,
  expandHome,
  type Flags,
  type LoadedConfig,
  loadConfigFiles,
  normalizeAddr,
  parseBool,
  parseCommandLine,
  parseConfigText,
  parseTimeoutMs,
  quoteValue,
  resolveOptions,
  type SpincOptions,
  SYSTEM_CONFIG_FILE,
  USER_CONFIG_FILE,
} from './options.js';
export {
  type Column,
  formatDuration,
  formatSeconds,
  formatTime,
  labelled,
  nanosTime,
  progressPercent,
  shorten,
  type TimeZoneMode,
  table,
  toJson,
  wireTime,
} from './output.js';
export {
  checkUnknownArgs,
  createArgs,
  defaultText,
  formatArgList,
  missingRequired,
  parseArgTokens,
  splitArg,
  startCommandLine,
  unknownArgs,
  userArgs,
} from './request-args.js';
export { COMMAND_TABLE, runSpinc } from './run.js';
