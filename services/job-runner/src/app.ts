/**
 * Assembly: the express app from its dependencies (`buildApp`), and a whole
 * running Job Runner (`startJobRunner`) as main.ts runs it; tests run either
 * in-process on port 0.
 */
import type { JobFactory } from '@spincycle/jobs';
import {
  clientTlsStepName,
  collectGarbage,
  createApp,
  finishApp,
  type Logger,
  loadJobFactory,
  loopbackHostGuard,
  metricsHandler,
  type NamedStep,
  type RunningServer,
  splitAddr,
  startServer,
  tlsEnabled,
} from '@spincycle/service-kit';
import type { RetryWaitObserver } from '@spincycle/traversal';
import { JobSlots } from '@spincycle/traversal';
import type { Express } from 'express';
import { registerRoutes } from './api.js';
import { InternalTokenGuard } from './auth.js';
import { type JrConfig, readInternalToken, readInternalTokens } from './config.js';
import { Heartbeat, type HeartbeatSink } from './heartbeat.js';
import { GcAfterBigChains } from './idle-gc.js';
import { jrMetrics, startJrMetrics } from './metrics.js';
import { ProgressReporter } from './progress.js';
import { registerReadyRoute } from './ready.js';
import { ChainRegistry } from './registry.js';
import { Reporter, type ReporterOptions, type RmSink } from './reporter.js';
import { RmGateway } from './rm-gateway.js';

export interface AppDeps {
  registry: ChainRegistry;
  logger: Logger;
  /** Base URL reported to the RM in `Location`. */
  baseUrl: () => string;
  /**
   * When set, `/api` calls must carry this token, or one of these (X-Spincycle-Internal-Token),
   * else 401. Unset: no credentials, and only calls addressed to a loopback name are answered.
   */
  internalToken?: string | string[] | InternalTokenGuard;
  /** Largest accepted body (default 64 MiB: chains and batches of chains). */
  bodyLimit?: string | number;
}

/** The JR's express app: common edge (version header, JSON, 404/405, error mapping) plus the JR routes. */
export function buildApp(deps: AppDeps): Express {
  const app = createApp({
    logger: deps.logger,
    service: 'jr',
    bodyLimit: deps.bodyLimit,
    // Checked before the body is read.
    beforeBody: [
      deps.internalToken instanceof InternalTokenGuard
        ? deps.internalToken.handler
        : deps.internalToken
          ? new InternalTokenGuard(deps.internalToken).handler
          : loopbackHostGuard('Job Runner'),
    ],
  });
  registerRoutes(app, deps);
  registerReadyRoute(app, () => deps.registry.draining);
  // Behind the same credentials as /api (auth.ts).
  app.get('/metrics', metricsHandler());
  finishApp(app, deps.logger);
  return app;
}

export interface JobRunnerOptions {
  config: JrConfig;
  logger: Logger;
  /** Default: the config's `jobs.module` over the built-in jobs. */
  factory?: JobFactory;
  /** Where RM calls go. Default: HTTP to `rm_client.url`. */
  sink?: RmSink;
  /** Where heartbeats go. Default: the sink when it takes heartbeats (the HTTP one does); false: none. */
  heartbeat?: HeartbeatSink | false;
  reporterOptions?: ReporterOptions;
  /** Stop/suspend budget for running jobs (default 10 s); also the grace a timed-out job gets after its stop. */
  stopBudgetMs?: number;
  /** Random numbers in [0, 1) for the retry backoff's jitter (tests make it deterministic). */
  random?: () => number;
  /** Observes every computed retry wait. */
  onRetryWait?: RetryWaitObserver;
  /** Progress interval (default 1 s). */
  progressIntervalMs?: number;
}

export interface RunningJobRunner {
  /** Where the HTTP server listens. */
  url: string;
  /** What the JR reports to the RM. */
  baseUrl: string;
  registry: ChainRegistry;
  reporter: Reporter;
  slots: JobSlots;
  server: RunningServer;
  /** Liveness reports to the RM (undefined when disabled). */
  heartbeat: Heartbeat | undefined;
  /** Graceful shutdown: refuse chains, suspend all, flush to the RM, close. */
  shutdown(): Promise<void>;
  /**
   * What SIGHUP re-reads, each step named after its key and file: the token
   * sent to the RM, the token required on this API, the server's TLS files.
   * A step swaps in what it read or throws and keeps the old one.
   */
  reloadSteps: NamedStep[];
}

/** The advertised base URL: explicit, else scheme://server.addr (the real address when the port is 0 or the host empty). */
export function advertisedBaseUrl(config: JrConfig, listening: string): string {
  if (config.advertiseUrl) return config.advertiseUrl;
  const { host, port } = splitAddr(config.addr);
  if (port === 0 || config.addr.startsWith(':')) return listening;
  return `${tlsEnabled(config.serverTls) ? 'https' : 'http'}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** The job factory of a JR: `jobs.module` over the built-in jobs, `shell-command` set up by the `jobs.shell_*` keys. */
export function loadJobs(
  config: Pick<JrConfig, 'jobsModule' | 'shellCommand'>,
  baseDir: string,
): Promise<JobFactory> {
  return loadJobFactory(config.jobsModule, baseDir, { shellCommand: config.shellCommand });
}

export async function startJobRunner(opts: JobRunnerOptions): Promise<RunningJobRunner> {
  const { config, logger } = opts;
  const factory = opts.factory ?? (await loadJobs(config, process.cwd()));
  const gateway = opts.sink
    ? undefined
    : new RmGateway(config.rmUrls, {
        timeoutMs: config.rmTimeoutMs,
        tls: config.rmTls,
        internalToken: config.rmInternalToken,
      });
  const sink = opts.sink ?? (gateway as RmGateway);
  const reporter = new Reporter(sink, logger.child({ component: 'reporter' }), {
    maxLogTextBytes: config.maxLogBytes,
    maxQueue: config.maxReportQueue,
    ...opts.reporterOptions,
  });
  const slots = new JobSlots(config.maxConcurrentJobs);
  slots.gateOn(() => reporter.room());
  const idleGc = new GcAfterBigChains({ minJobs: 10_000, delayMs: 1000, collect: collectGarbage });
  const registry = new ChainRegistry({
    onChainDone: (jobs) => idleGc.chainDone(jobs),
    factory,
    reporter,
    slots,
    logger: logger.child({ component: 'traverser' }),
    onJobTry: jrMetrics.jobTry,
    stopBudgetMs: opts.stopBudgetMs,
    random: opts.random,
    onRetryWait: opts.onRetryWait,
  });
  const stopMetrics = startJrMetrics({ factory, registry, slots, reporter });
  let baseUrl = '';
  const guard =
    config.apiInternalTokens || config.rmClientNames.length > 0
      ? new InternalTokenGuard(config.apiInternalTokens ?? [], config.rmClientNames)
      : undefined;
  const app = buildApp({
    registry,
    logger: logger.child({ component: 'api' }),
    baseUrl: () => baseUrl,
    internalToken: guard,
    bodyLimit: config.bodyLimit,
  });
  const server = await startServer(app, config.addr, config.serverTls, config.serverLimits);
  baseUrl = advertisedBaseUrl(config, server.url);
  gateway?.setJobRunnerUrl(baseUrl);
  const progress = new ProgressReporter(registry, reporter, opts.progressIntervalMs);
  progress.start();
  const sinkBeats = typeof (sink as Partial<HeartbeatSink>).heartbeat === 'function';
  const hbSink =
    opts.heartbeat === false
      ? undefined
      : (opts.heartbeat ?? (sinkBeats ? (sink as unknown as HeartbeatSink) : undefined));
  const heartbeat = hbSink
    ? new Heartbeat(hbSink, registry, reporter, logger.child({ component: 'heartbeat' }), {
        intervalMs: config.heartbeatIntervalMs,
        baseUrl: () => baseUrl,
      })
    : undefined;
  heartbeat?.start();
  logger.info('job runner listening', {
    url: server.url,
    advertised: baseUrl,
    rm: config.rmUrls,
    maxConcurrentJobs: config.maxConcurrentJobs,
  });

  let shuttingDown: Promise<void> | undefined;
  const shutdown = () => {
    shuttingDown ??= (async () => {
      const deadline = Date.now() + config.shutdownGraceMs;
      registry.beginShutdown();
      progress.stop();
      // Tell the RMs at once that this JR takes no new chains; beats go on while chains are handed back.
      void heartbeat?.beat();
      await registry.suspendAll(deadline);
      const flushed = await reporter.drain(deadline);
      await heartbeat?.stop();
      if (!flushed)
        logger.error('shutdown grace over with messages to the RM still undelivered', {
          queuedJobLogs: reporter.queued,
        });
      reporter.close();
      stopMetrics();
      idleGc.stop();
      await server.close();
    })();
    return shuttingDown;
  };
  const reloadSteps: NamedStep[] = [];
  const rmFile = config.values['rm_client.internal_token_file'];
  const apiKey = config.values['auth.internal_token_file']
    ? 'auth.internal_token_file'
    : 'rm_client.internal_token_file';
  const apiFile = config.values[apiKey];
  if (gateway && rmFile)
    reloadSteps.push({
      name: `rm_client.internal_token_file ${rmFile}`,
      run: () => gateway.setInternalToken(readInternalToken(rmFile)),
    });
  if (guard && apiFile)
    reloadSteps.push({
      // Unset auth.internal_token_file means the rm_client file again: a step of its own keeps the roles apart in the log.
      name: `auth.internal_token_file ${apiFile}`,
      run: () => guard.setTokens(readInternalTokens(apiFile, apiKey)),
    });
  const rmTlsStep = clientTlsStepName('rm_client.tls', config.rmTls);
  if (gateway && rmTlsStep) reloadSteps.push({ name: rmTlsStep, run: () => gateway.reloadTls() });
  if (server.reloadTls)
    reloadSteps.push({
      name: `server.tls ${config.serverTls.certFile} ${config.serverTls.keyFile}`,
      run: server.reloadTls,
    });
  return { url: server.url, baseUrl, registry, reporter, slots, server, heartbeat, shutdown, reloadSteps };
}
