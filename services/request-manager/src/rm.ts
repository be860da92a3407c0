/**
 * Assembles a Request Manager from its config: database (opened and
 * migrated), specs + job factory, stores, life cycle service, resumer and
 * the HTTP app. `main.ts` runs it as a process; tests run it in-process.
 */

import {
  clientTlsStepName,
  isLoopbackAddr,
  type Logger,
  type NamedStep,
  type RunningServer,
  silentLogger,
  startServer,
} from '@spincycle/service-kit';
import type { Express } from 'express';
import { buildApp } from './app.js';
import type { InternalAuth } from './auth/internal.js';
import { type AuthSetup, authFromConfig } from './auth/setup.js';
import type { Authenticator, Authorizer } from './auth.js';
import { RequestCatalog } from './catalog.js';
import { type RmConfig, type RmConfigValues, resolveRmConfig } from './config.js';
import { dbTargetFromConfig, openDataSource } from './db/data-source.js';
import { Db } from './db/db.js';
import { migrate } from './db/migrate.js';
import { EventReader } from './events/event-reader.js';
import { EventStreams } from './events/streams.js';
import { Explainer } from './explain.js';
import { Idempotency } from './idempotency.js';
import { JobRunnerLiveness } from './jr-liveness.js';
import { JrPool } from './jr-pool.js';
import { startRmMetrics } from './metrics.js';
import { createOperatorFeatures, type OperatorFeatures } from './operator-features.js';
import { Planner } from './plan.js';
import { ReportIntake } from './report-intake.js';
import { RequestLifecycle } from './request-lifecycle.js';
import { RequestQueries } from './request-queries.js';
import { RequestRetry } from './request-retry.js';
import { defaultInstanceId, Resumer } from './resumer.js';
import { parseKeep, Retention } from './retention.js';
import { runningStatus } from './running-status.js';
import { SecretMasker } from './secret-masker.js';
import { IdempotencyStore } from './stores/idempotency-store.js';
import { JobLogStore } from './stores/job-log-store.js';
import { JrStore } from './stores/jr-store.js';
import { LeaseStore } from './stores/lease-store.js';
import { ReportStore } from './stores/report-writes.js';
import { RequestStore } from './stores/request-store.js';
import { RetentionStore } from './stores/retention-store.js';
import { SjcStore } from './stores/sjc-store.js';
import { Sweeper } from './sweeper.js';

export interface RequestManagerOptions {
  logger?: Logger;
  authenticator?: Authenticator;
  authorizer?: Authorizer;
  /** Job Runner credentials on internal endpoints (default: from `auth.internal_token_file` / client certificates). */
  internalAuth?: InternalAuth;
  /** Use these specs/jobs instead of loading `specs.dir` / `jobs.module`. */
  catalog?: RequestCatalog;
  /** Where a relative `jobs.module` is resolved from (default: the working directory). */
  baseDir?: string;
  /** Apply pending migrations at boot (default true). */
  migrate?: boolean;
  /** The scheduler's clock (default: the system clock). */
  now?: () => Date;
}

export interface RequestManager {
  config: RmConfig;
  app: Express;
  db: Db;
  catalog: RequestCatalog;
  /** Create, start, stop; finalizing requests of lost Job Runners. */
  lifecycle: RequestLifecycle;
  /** What Job Runners report: finishes, progress, suspended chains, job logs. */
  intake: ReportIntake;
  /** Reads of requests and job logs. */
  queries: RequestQueries;
  /** "Why is it not done?": other modules register their reasons here (locks, schedules). */
  explainer: Explainer;
  /** Idempotency-Key of creates (and the purge of expired keys). */
  idempotency: Idempotency;
  /** Retry from failure. */
  retry: RequestRetry;
  /** Open live-event streams. */
  events: EventStreams;
  resumer: Resumer;
  /** Finds requests of lost Job Runners (runs on one RM at a time). */
  sweeper: Sweeper;
  /** Deletes old final requests (`retention.keep`; one RM at a time). */
  retention: Retention;
  liveness: JobRunnerLiveness;
  jrs: JrPool;
  /** Locks, schedules and webhook notifications. */
  operator: OperatorFeatures;
  /** Auth as configured (`auth.*`); overridden parts come from the options. */
  auth: AuthSetup;
  /** What SIGHUP re-reads: the credential files of `auth` (and the server's TLS files once listening). */
  reloadSteps(): NamedStep[];
  /** True once draining started: create/start answer 503. */
  readonly draining: boolean;
  beginDrain(): void;
  /** Start the resumer and the sweeper and serve on `server.addr`. */
  listen(): Promise<RunningServer>;
  /** Drain, stop the resumer, close the server (when listening) and the database. */
  close(): Promise<void>;
}

export async function createRequestManager(
  values: RmConfigValues,
  opts: RequestManagerOptions = {},
): Promise<RequestManager> {
  const config = resolveRmConfig(values);
  const logger = opts.logger ?? silentLogger();
  const catalog =
    opts.catalog ??
    (await RequestCatalog.load(
      config.specsDir,
      config.jobsModule,
      opts.baseDir ?? process.cwd(),
      logger.child({ component: 'specs' }),
    ));
  // Auth config problems stop start-up before the database is touched.
  const auth = await authFromConfig(
    values,
    (type) => catalog.specs.sequences.get(type)?.acl,
    opts.baseDir ?? process.cwd(),
  );
  const ds = await openDataSource(dbTargetFromConfig(values));
  const db = new Db(ds, logger.child({ component: 'db' }));
  try {
    if (opts.migrate !== false) await migrate(ds, logger.child({ component: 'migrate' }));
    // Statements are cut to the server's max_allowed_packet.
    await db.readLimits();
  } catch (err) {
    await db.close();
    throw err;
  }
  const requests = new RequestStore(db);
  const logs = new JobLogStore(db);
  const sjcs = new SjcStore(db);
  const jrStore = new JrStore(db);
  // One id per RM process: resumer claims, sweeper lease, heartbeat bookkeeping.
  const instanceId = defaultInstanceId();
  let operator: OperatorFeatures;
  try {
    operator = createOperatorFeatures(config.values, {
      db,
      requests,
      logs,
      catalog,
      logger,
      instanceId,
      now: opts.now,
    });
  } catch (err) {
    await db.close();
    throw err;
  }
  const { finals, locks } = operator;
  const jrs = new JrPool(config.jrUrls, {
    timeoutMs: config.jrTimeoutMs,
    tls: config.jrTls,
    internalToken: auth.jrClientToken,
  });
  let draining = false;
  const isDraining = () => draining;
  const secrets = new SecretMasker(db);
  const authorizer = opts.authorizer ?? auth.authorizer;
  const lifecycle = new RequestLifecycle({
    db,
    requests,
    logs,
    sjcs,
    catalog,
    jrs,
    authorizer,
    logger,
    isDraining,
    jrStore,
    jrLeaseMs: config.jrLeaseMs,
    secrets,
    maxJobs: config.maxJobs,
    finals,
    locks,
  });
  operator.bindLifecycle(lifecycle);
  const intake = new ReportIntake({
    db,
    requests,
    logs,
    sjcs,
    reports: new ReportStore(db, logs),
    logger,
    jrStore,
    secrets,
    finals,
    balancers: new Set(config.jrUrls),
  });
  const queries = new RequestQueries({
    requests,
    logs,
    authorizer,
    requestTypes: () => catalog.requestTypes(),
    extras: (row) => operator.extras(row),
  });
  const idempotency = new Idempotency(new IdempotencyStore(db), config.idempotencyTtlMs, logger);
  const planner = new Planner(catalog, opts.authorizer ?? auth.authorizer, config.maxJobs);
  const explainer = new Explainer({
    requests,
    logs,
    sjcs,
    jrStore,
    running: (url, requestId) => jrs.statusClient(url).running(requestId),
    jrLeaseMs: config.jrLeaseMs,
  });
  for (const c of operator.explainContributors) explainer.register(c);
  const retry = new RequestRetry({
    requests,
    logs,
    jrs,
    authorizer,
    logger,
    isDraining,
  });
  const events = new EventStreams(
    new EventReader(db, requests),
    {
      pollMs: config.values['events.poll_interval'],
      keepAliveMs: config.values['events.keep_alive'],
      maxStreams: config.values['events.max_streams'],
      maxDurationMs: config.values['events.max_duration'],
    },
    logger.child({ component: 'events' }),
    authorizer,
  );
  const finalizeLost = lifecycle.finalizeLost.bind(lifecycle);
  const liveness = new JobRunnerLiveness(
    {
      requests,
      jrStore,
      logger,
      rmHost: instanceId,
      finalizeLost,
    },
    config.jrLeaseMs,
  );
  // Several JR URLs: send new chains to live JRs with the fewest chains.
  jrs.useLiveness(() => liveness.snapshot());
  const leases = new LeaseStore(db);
  const sweeper = new Sweeper(
    { requests, jrStore, leases, finalizeLost, logger },
    { intervalMs: config.sweepIntervalMs, leaseMs: config.jrLeaseMs, instanceId },
  );
  const retention = new Retention(
    { store: new RetentionStore(db), leases, logger },
    {
      keepMs: parseKeep(config.values['retention.keep']),
      intervalMs: config.values['retention.interval'],
      batch: config.values['retention.batch'],
      pauseMs: config.values['retention.pause'],
      instanceId,
    },
  );
  const resumer = new Resumer(
    { db, requests, sjcs, logs, jrs, logger, finals },
    {
      intervalMs: config.resumerIntervalMs,
      ttlMs: config.resumerTtlMs,
      claimTimeoutMs: config.resumerClaimTimeoutMs,
      instanceId,
    },
  );
  const stopMetrics = startRmMetrics({ db, catalog, liveness });
  const statusLogger = logger.child({ component: 'status' });
  const app = buildApp({
    services: { lifecycle, intake, queries, idempotency, planner, explainer },
    catalog,
    running: (requestId) =>
      runningStatus(
        { requests, jrs, logger: statusLogger, liveness: { jrStore, leaseMs: config.jrLeaseMs } },
        { requestId },
      ),
    liveness,
    retry,
    events,
    authenticator: opts.authenticator ?? auth.authenticator,
    internalAuth: opts.internalAuth ?? auth.internal,
    logger,
    isDraining,
    metricsRoles: [...config.values['auth.admin_roles'], 'metrics'],
    bodyLimit: config.bodyLimit,
    internalBodyLimit: config.internalBodyLimit,
    createRate: config.createRate,
    loopbackOnly: auth.open && !opts.authenticator && !opts.internalAuth && isLoopbackAddr(config.addr),
    pingDb: () => db.run((m) => m.query('SELECT 1')),
    schedules: () => operator.scheduler.list(),
  });

  let server: RunningServer | undefined;
  let closed: Promise<void> | undefined;
  return {
    config,
    app,
    db,
    catalog,
    lifecycle,
    intake,
    queries,
    explainer,
    idempotency,
    retry,
    events,
    resumer,
    sweeper,
    retention,
    liveness,
    jrs,
    operator,
    auth,
    reloadSteps() {
      const steps = auth.reloadSteps((token) => jrs.setInternalToken(token));
      const clientTls = clientTlsStepName('jr_client.tls', config.jrTls);
      if (clientTls) steps.push({ name: clientTls, run: () => jrs.reloadTls() });
      const reloadTls = server?.reloadTls;
      const tls = config.serverTls;
      if (reloadTls) steps.push({ name: `server.tls ${tls.certFile} ${tls.keyFile}`, run: reloadTls });
      return steps;
    },
    get draining() {
      return draining;
    },
    beginDrain() {
      draining = true;
    },
    async listen() {
      void db.warmUp(Math.min(config.mysqlPoolSize, 20));
      server = await startServer(app, config.addr, config.serverTls, config.serverLimits);
      resumer.start();
      sweeper.start();
      operator.start();
      retention.start();
      return server;
    },
    close() {
      closed ??= (async () => {
        draining = true;
        events.closeAll();
        stopMetrics();
        await Promise.all([
          resumer.stop(),
          sweeper.stop(),
          retention.stop(),
          liveness.settled(),
          operator.stop(),
        ]);
        jrs.close();
        await server?.close();
        await db.close();
      })();
      return closed;
    },
  };
}
