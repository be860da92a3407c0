// The traversal core lives in @spincycle/traversal; these are re-exported for code that used them from here.
export {
  type ChainKind,
  type ChainOutcome,
  ChainState,
  type Counters,
  errorText,
  indexJobChain,
  type JobNode,
  JobRunner,
  JobSlots,
  normalizeReturn,
  type PendingRetry,
  type RunnerOptions,
  type RunnerResult,
  SequenceRetries,
  type SlotTicket,
  sequenceRegion,
  Traverser,
  type TraverserDeps,
  type ValidChain,
  type ValidSuspendedChain,
  validateJobChain,
  validateSuspendedJobChain,
} from '@spincycle/traversal';
export { type ApiDeps, MAX_BATCH_CHAINS, registerRoutes } from './api.js';
export {
  type AppDeps,
  advertisedBaseUrl,
  buildApp,
  type JobRunnerOptions,
  loadJobs,
  type RunningJobRunner,
  startJobRunner,
} from './app.js';
export {
  JR_CONFIG_SCHEMA,
  type JrConfig,
  type JrConfigValues,
  loadJrConfig,
  readInternalToken,
  readInternalTokens,
  resolveConfig,
} from './config.js';
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
