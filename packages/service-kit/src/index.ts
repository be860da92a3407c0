export { clientTlsAgent, clientTlsStepName } from './client-tls.js';
export {
  ConfigError,
  type ConfigSchema,
  type ConfigValues,
  configFileFor,
  describeConfig,
  type FieldSpec,
  type FieldType,
  implicitConfigFile,
  type LoadOptions,
  loadConfig,
  redactConfig,
  redactDsnPassword,
} from './config.js';
export { collectGarbage, DEFAULT_HEAP_GROWING_PERCENT, limitHeapGrowth } from './heap.js';
export {
  type AppOptions,
  byteLimit,
  createApp,
  drainingGuard,
  errorBody,
  finishApp,
  MAX_JSON_DEPTH,
  nestedDeeperThan,
  parseByteLimit,
  sendJson,
  sendJsonParts,
  sendJsonText,
  withBodyLimit,
} from './http-app.js';
export { callTrace, observeCalls, reenterTrace, routeMarker } from './http-observe.js';
export { loadJobFactory } from './job-module.js';
export { createLogger, type LogFields, type Logger, type LoggerOptions, silentLogger } from './logger.js';
export { ForbiddenHostError, isLoopbackAddr, isLoopbackHost, loopbackHostGuard } from './loopback.js';
export {
  DEFAULT_METRICS_USED,
  DURATION_BUCKETS,
  METRIC_LIST,
  METRICS,
  type MetricDef,
  type MetricKey,
  type MetricService,
  type MetricType,
  OTHER_LABEL,
} from './metric-names.js';
export {
  addGaugeSource,
  type CounterKey,
  counter,
  enableDefaultMetrics,
  type GaugeKey,
  type GaugeReading,
  type HistogramKey,
  histogram,
  KnownValues,
  metricsHandler,
  metricsRegistry,
} from './metrics.js';
export { MicroBatcher, type MicroBatcherOptions, type Settled } from './micro-batcher.js';
export { importModule, ModuleLoadError, resolveModuleSpec } from './module-loader.js';
export { certificateNameMatch, peerCertificateName } from './peer-names.js';
export { PeriodicTask, type PeriodicTaskOptions } from './periodic-task.js';
export {
  answerClientError,
  DEFAULT_SERVER_LIMITS,
  expressHttpClasses,
  type RunningServer,
  refuseConnect,
  type ServerLimits,
  splitAddr,
  startServer,
  type TlsFiles,
  tlsEnabled,
} from './server.js';
export {
  bodyLimitFrom,
  pairedTlsFilesFrom,
  serverAddrKey,
  serverLimitKeys,
  serverLimitsFrom,
  serverTlsKeys,
  type TlsFileKeys,
  tlsFileKeys,
  tlsFilesFrom,
} from './server-config.js';
export { type NamedStep, type ReloadResult, ShutdownManager } from './shutdown.js';
export { MIN_TOKEN_LENGTH, readTokenFile, tokenLines } from './token-file.js';
