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
  serverLimitsFrom,
  silentLogger,
  startServer,
  tlsFilesFrom,
} from '@spincycle/service-kit';
import type { Express } from 'express';
import { buildApp } from './app.js';
import type { InternalAuth } from './auth/internal.js';
import { type AuthSetup, authFromConfig } from './auth/setup.js';
import type { Authenticator, Authorizer } from './auth.js';
import { RequestCatalog } from './catalog.js';
import { createRateFrom, jrUrls, type RmConfig } from './config.js';
import { dbTargetFromConfig, openDataSource } from './db/data-source.js';
import { Db } from './db/db.js';
import { migrate } from './db/migrate.js';
import { Explainer } from './explain.js';
import { Idempotency } from './idempotency.js';
import { JobRunnerLiveness } from './jr-liveness.js';
import { JrPool } from './jr-pool.js';
import { startRmMetrics } from './metrics.js';
import { Planner } from './plan.js';
import { ReportIntake } from './report-intake.js';
import { RequestLifecycle } from './request-lifecycle.js';
import { RequestQueries } from './request-queries.js';
import { defaultInstanceId, Resumer } from './resumer.js';
import { runningStatus } from './running-status.js';
import { SecretMasker } from './secret-masker.js';
import { IdempotencyStore } from './stores/idempotency-store.js';
import { JobLogStore } from './stores/job-log-store.js';
import { JrStore } from './stores/jr-store.js';
import { LeaseStore } from './stores/lease-store.js';
import { ReportStore } from './stores/report-writes.js';
import { RequestStore } from './stores/request-store.js';
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
  resumer: Resumer;
  /** Finds requests of lost Job Runners (runs on one RM at a time). */
  sweeper: Sweeper;
  liveness: JobRunnerLiveness;
  jrs: JrPool;
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
  config: RmConfig,
  opts: RequestManagerOptions = {},
): Promise<RequestManager> {
  const logger = opts.logger ?? silentLogger();
  const catalog =
    opts.catalog ??
    (await RequestCatalog.load(
      config['specs.dir'],
      config['jobs.module'],
      opts.baseDir ?? process.cwd(),
      logger.child({ component: 'specs' }),
    ));
  // Auth config problems stop start-up before the database is touched.
  const auth = await authFromConfig(
    config,
    (type) => catalog.specs.sequences.get(type)?.acl,
    opts.baseDir ?? process.cwd(),
  );
  const ds = await openDataSource(dbTargetFromConfig(config));
  const db = new Db(ds, logger.child({ component: 'db' }));
  try {
    if (opts.migrate !== false) await migrate(ds, logger.child({ component: 'migrate' }));
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
  const jrs = new JrPool(jrUrls(config), {
    timeoutMs: config['jr_client.timeout'],
    tls: tlsFilesFrom(config, 'jr_client.tls'),
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
    jrLeaseMs: config['jr.lease'],
    secrets,
    maxJobs: config['limits.max_jobs'],
  });
  const intake = new ReportIntake({
    db,
    requests,
    logs,
    sjcs,
    reports: new ReportStore(db, logs),
    logger,
    jrStore,
    secrets,
    balancers: new Set(jrUrls(config)),
  });
  const queries = new RequestQueries({
    requests,
    logs,
    authorizer,
    requestTypes: () => catalog.requestTypes(),
  });
  const idempotency = new Idempotency(new IdempotencyStore(db), config['idempotency.ttl'], logger);
  const planner = new Planner(catalog, opts.authorizer ?? auth.authorizer, config['limits.max_jobs']);
  const explainer = new Explainer({
    requests,
    logs,
    sjcs,
    jrStore,
    running: (url, requestId) => jrs.statusClient(url).running(requestId),
    jrLeaseMs: config['jr.lease'],
  });
  const finalizeLost = lifecycle.finalizeLost.bind(lifecycle);
  const liveness = new JobRunnerLiveness(
    {
      requests,
      jrStore,
      logger,
      rmHost: instanceId,
      finalizeLost,
    },
    config['jr.lease'],
  );
  // Several JR URLs: send new chains to live JRs with the fewest chains.
  jrs.useLiveness(() => liveness.snapshot());
  const sweeper = new Sweeper(
    { requests, jrStore, leases: new LeaseStore(db), finalizeLost, logger },
    { intervalMs: config['jr.sweep_interval'], leaseMs: config['jr.lease'], instanceId },
  );
  const resumer = new Resumer(
    { db, requests, sjcs, logs, jrs, logger },
    {
      intervalMs: config['resumer.interval'],
      ttlMs: config['resumer.ttl'],
      claimTimeoutMs: config['resumer.claim_timeout'],
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
        { requests, jrs, logger: statusLogger, liveness: { jrStore, leaseMs: config['jr.lease'] } },
        { requestId },
      ),
    liveness,
    authenticator: opts.authenticator ?? auth.authenticator,
    internalAuth: opts.internalAuth ?? auth.internal,
    logger,
    isDraining,
    metricsRoles: [...config['auth.admin_roles'], 'metrics'],
    bodyLimit: config['server.body_limit'],
    internalBodyLimit: config['server.internal_body_limit'],
    createRate: createRateFrom(config),
    loopbackOnly:
      auth.open && !opts.authenticator && !opts.internalAuth && isLoopbackAddr(config['server.addr']),
    pingDb: () => db.run((m) => m.query('SELECT 1')),
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
    resumer,
    sweeper,
    liveness,
    jrs,
    auth,
    reloadSteps() {
      const steps = auth.reloadSteps((token) => jrs.setInternalToken(token));
      const clientTls = clientTlsStepName('jr_client.tls', tlsFilesFrom(config, 'jr_client.tls'));
      if (clientTls) steps.push({ name: clientTls, run: () => jrs.reloadTls() });
      const reloadTls = server?.reloadTls;
      const tls = tlsFilesFrom(config, 'server.tls');
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
      void db.warmUp(Math.min(config['mysql.pool_size'], 20));
      server = await startServer(
        app,
        config['server.addr'],
        tlsFilesFrom(config, 'server.tls'),
        serverLimitsFrom(config),
      );
      resumer.start();
      sweeper.start();
      return server;
    },
    close() {
      closed ??= (async () => {
        draining = true;
        stopMetrics();
        await Promise.all([resumer.stop(), sweeper.stop()]);
        jrs.close();
        await server?.close();
        await db.close();
      })();
      return closed;
    },
  };
}
