export { type ApiDeps, MAX_BATCH_CHAINS, registerRoutes } from './api.js';
export {
  type AppDeps,
  advertisedBaseUrl,
  buildApp,
  type JobRunnerOptions,
  type RunningJobRunner,
  startJobRunner,
} from './app.js';
export { ChainState, type Counters, type JobNode } from './chain-state.js';
export {
  type ChainKind,
  indexJobChain,
  type ValidChain,
  type ValidSuspendedChain,
  validateJobChain,
  validateSuspendedJobChain,
} from './chain-validation.js';
export {
  JR_CONFIG_SCHEMA,
  type JrConfig,
  type JrConfigValues,
  loadJrConfig,
  readInternalToken,
  readInternalTokens,
  resolveConfig,
} from './config.js';
export { JobSlots, type SlotTicket } from './job-slots.js';
export { ProgressReporter, type ProgressSink } from './progress.js';
export { ChainRegistry, type RegistryDeps, SHUTTING_DOWN_MESSAGE } from './registry.js';
export {
  type ChainReporter,
  type Delivery,
  type DeliveryOptions,
  entryJsonBytes,
  isRejection,
  Reporter,
  type ReporterOptions,
  type RmSink,
} from './reporter.js';
export { INTERNAL_TOKEN_HEADER, RmGateway, type RmGatewayOptions } from './rm-gateway.js';
export { errorText, JobRunner, normalizeReturn, type RunnerOptions, type RunnerResult } from './runner.js';
export { type PendingRetry, SequenceRetries, sequenceRegion } from './sequence-retry.js';
export { type ChainOutcome, Traverser, type TraverserDeps } from './traverser.js';
