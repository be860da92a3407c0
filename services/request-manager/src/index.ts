/** Public entry of the RM package (for in-process use and tests). */
export { type AppDeps, buildApp } from './app.js';
export {
  ANONYMOUS,
  type AuthDecision,
  type Authenticator,
  type Authorizer,
  allowAllAuthorizer,
  anonymousAuthenticator,
  type Caller,
  type ReadScope,
  requireAuthorized,
} from './auth.js';
export { describeDiagnostic, RequestCatalog, requestList, SpecsError } from './catalog.js';
export {
  createRateFrom,
  jrUrls,
  loadRmConfig,
  RM_CONFIG_SCHEMA,
  type RmConfig,
  type RmConfigValues,
  redactRmConfig,
  resolveRmConfig,
  sqliteFile,
} from './config.js';
export { type DbTarget, dataSourceOptions, dbTargetFromConfig, openDataSource } from './db/data-source.js';
export { Db } from './db/db.js';
export { MIGRATIONS, MIGRATIONS_TABLE, migrate } from './db/migrate.js';
export { type MysqlConnection, parseMysqlDsn } from './db/mysql-dsn.js';
export {
  type DbKind,
  dbDate,
  groupStatements,
  insertSql,
  MIGRATION_LOCK_SQL,
  MIGRATION_UNLOCK_SQL,
  PING_SQL,
  ROLLBACK_SQL,
  type Statement,
  sqlValue,
  transactionSql,
} from './db/sql.js';
export {
  type ExplainContext,
  type ExplainContribution,
  type ExplainContributor,
  Explainer,
  type ExplainerDeps,
  type ExplainReason,
  type Explanation,
  type JobExplanation,
} from './explain.js';
export {
  bad,
  encodeFindCursor,
  FIND_DEFAULT_LIMIT,
  FIND_MAX_LIMIT,
  nextPagePath,
  parseFindQuery,
  uint,
} from './find-query.js';
export {
  bodyHash,
  IDEMPOTENCY_HEADER,
  IDEMPOTENCY_KEY_MAX,
  Idempotency,
  IdempotencyKeyMismatchError,
  type IdempotentResult,
  IN_PROGRESS_ABANDONED_MS,
  parseIdempotencyKey,
} from './idempotency.js';
export { JrPool, type JrPoolOptions, type LiveSnapshot, resumeChainJson } from './jr-pool.js';
export { Planner } from './plan.js';
export { ReportIntake, type ReportIntakeDeps } from './report-intake.js';
export {
  type FinalizeLost,
  type FinalizeLostOptions,
  RequestLifecycle,
  type RequestLifecycleDeps,
  SHUTTING_DOWN_MESSAGE,
} from './request-lifecycle.js';
export {
  RequestQueries,
  type RequestQueriesDeps,
  requestJsonParts,
  wireRequestOf,
} from './request-queries.js';
export {
  defaultInstanceId,
  type ResumeOutcome,
  Resumer,
  type ResumerDeps,
  type ResumerOptions,
} from './resumer.js';
export { createRequestManager, type RequestManager, type RequestManagerOptions } from './rm.js';
export { runningStatus } from './running-status.js';
export { REDACTED } from './secrets.js';
export {
  CHUNK_BYTES,
  entryJson,
  JobLogStore,
  type LogKey,
  sameEntry,
  toJobLogRow,
  toWireJobLog,
} from './stores/job-log-store.js';
export {
  ARG_NAME_MAX,
  argIndexValue,
  argText,
  type FullRequest,
  parseSecretArgs,
  type RawRequest,
  REQUEST_COLUMNS,
  REQUEST_SELECT_LIST,
  SELECT_REQUEST,
  toRequestRow,
  toWireRequest,
  withArgs,
} from './stores/request-rows.js';
export {
  type FindFilter,
  type NewRequest,
  type RequestPatch,
  RequestStore,
} from './stores/request-store.js';
export { SjcStore } from './stores/sjc-store.js';
