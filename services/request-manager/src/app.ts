/**
 * The RM's express app, built from its dependencies so tests can run it
 * in-process on port 0. Typed errors become responses in one place
 * (service-kit's finishApp).
 */

import {
  createApp,
  drainingGuard,
  finishApp,
  type Logger,
  loopbackHostGuard,
  withBodyLimit,
} from '@spincycle/service-kit';
import { type Express, type Request, type RequestHandler, Router } from 'express';
import type { RequestServices } from './api/context.js';
import { createParams } from './api/create-params.js';
import { registerEventRoutes } from './api/events.js';
import { INTERNAL_ROUTES } from './api/internal-routes.js';
import { registerJobLogRoutes } from './api/job-logs.js';
import { registerJobRunnerRoutes } from './api/job-runners.js';
import { registerMetaRoutes } from './api/meta.js';
import { registerReportRoutes } from './api/reports.js';
import { registerRequestRoutes } from './api/requests.js';
import { registerRetryRoute } from './api/retry.js';
import { registerScheduleRoutes } from './api/schedules.js';
import { InternalAuth, jobRunnerBinding } from './auth/internal.js';
import { authMiddleware } from './auth/middleware.js';
import type { Authenticator } from './auth.js';
import type { RequestCatalog } from './catalog.js';
import type { EventStreams } from './events/streams.js';
import type { JobRunnerLiveness } from './jr-liveness.js';
import { registerMetricsRoute } from './metrics-route.js';
import { type CreateRate, createRateLimit, TokenBuckets } from './rate-limit.js';
import { registerReadyRoute } from './ready.js';
import { SHUTTING_DOWN_MESSAGE } from './request-lifecycle.js';
import type { RequestRetry } from './request-retry.js';
import { uiStatic } from './ui-static.js';

const isCreateOrStart = (req: Request) =>
  (req.method === 'POST' && req.path === '/api/v1/requests') ||
  (req.method === 'PUT' && /^\/api\/v1\/requests\/[^/]+\/start$/.test(req.path));

export interface AppDeps {
  services: RequestServices;
  catalog: RequestCatalog;
  running: (requestId?: string) => Promise<unknown>;
  /** Job Runner heartbeats (`/api/v1/job-runners…`); absent: those routes are not served. */
  liveness?: JobRunnerLiveness;
  authenticator: Authenticator;
  /** Job Runner credentials on the internal routes (default: none required). */
  internalAuth?: InternalAuth;
  logger: Logger;
  isDraining: () => boolean;
  /** Largest body of a user call, e.g. `1mb` (the default). */
  bodyLimit?: string | number;
  /** Largest body of a Job Runner call (INTERNAL_ROUTES: finish, suspend, logs, reports), e.g. `64mb` (the default). */
  internalBodyLimit?: string | number;
  /** Per-user limit on creating requests; absent: none. */
  createRate?: CreateRate;
  /** Roles of users that may read `GET /metrics` (default `metrics`). */
  metricsRoles?: readonly string[];
  /** No authentication at all: answer only calls addressed to a loopback name (DNS rebinding). */
  loopbackOnly?: boolean;
  /** `POST /requests/{id}/retry`; absent: not served. */
  retry?: RequestRetry;
  /** `GET /requests/{id}/events`; absent: not served. */
  events?: EventStreams;
  /** `SELECT 1` for `GET /ready`; absent: readiness follows draining only. */
  pingDb?: () => Promise<unknown>;
  /** `GET /api/v1/schedules` (schedules/scheduler.ts); absent: `[]`. */
  schedules?: () => Promise<unknown>;
}

/** Middleware run on the calls of `routes` (matched by express, as the routes themselves are). */
function on(
  routes: ReadonlyArray<readonly [(typeof INTERNAL_ROUTES)[number][0], string]>,
  handler: RequestHandler,
): RequestHandler {
  const router = Router();
  for (const [method, path] of routes) router[method](path, handler);
  return router;
}

export function buildApp(deps: AppDeps): Express {
  const internalAuth = deps.internalAuth ?? new InternalAuth();
  const app = createApp({
    logger: deps.logger.child({ component: 'http' }),
    service: 'rm',
    bodyLimit: deps.bodyLimit ?? '1mb',
    // Create and start get 503 while draining before their body is even read.
    // Then every API call is authenticated (401), also before its body is read: Job
    // Runner credentials on the internal routes (api/internal-routes.ts), users elsewhere.
    // A user over its create rate gets 429, and Job Runner calls may carry big bodies (chains).
    beforeBody: [
      ...(deps.loopbackOnly ? [loopbackHostGuard('Request Manager')] : []),
      drainingGuard(deps.isDraining, SHUTTING_DOWN_MESSAGE, isCreateOrStart),
      authMiddleware({
        authenticator: deps.authenticator,
        internal: internalAuth,
      }),
      // A bad dryRun or Idempotency-Key is a 400 naming it before the body is read.
      on([['post', '/api/v1/requests']], createParams),
      ...(deps.createRate
        ? [on([['post', '/api/v1/requests']], createRateLimit(new TokenBuckets(deps.createRate)))]
        : []),
      on(INTERNAL_ROUTES, withBodyLimit(deps.internalBodyLimit ?? '64mb')),
      // Which Job Runner calls: reports and heartbeats are bound to it (report-intake.ts, jr-liveness.ts).
      on(INTERNAL_ROUTES, jobRunnerBinding(internalAuth)),
    ],
  });
  registerRequestRoutes(app, deps.services, deps.isDraining);
  if (deps.retry) registerRetryRoute(app, deps.retry, deps.isDraining);
  if (deps.events) registerEventRoutes(app, deps.events);
  registerJobLogRoutes(app, deps.services);
  registerReportRoutes(app, deps.services.intake);
  registerMetaRoutes(app, deps.catalog, deps.running);
  if (deps.liveness) registerJobRunnerRoutes(app, deps.liveness);
  registerScheduleRoutes(app, deps.schedules ?? (async () => []));
  registerReadyRoute(app, { isDraining: deps.isDraining, pingDb: deps.pingDb ?? (async () => undefined) });
  app.use('/ui', uiStatic());
  registerMetricsRoute(app, {
    authenticator: deps.authenticator,
    internal: deps.internalAuth ?? new InternalAuth(),
    roles: deps.metricsRoles ?? ['metrics'],
  });
  finishApp(app, deps.logger.child({ component: 'http' }));
  return app;
}
