/**
 * The RM's express app, built from its dependencies so tests can run it
 * in-process on port 0. Typed errors become responses in one place
 * (service-kit's finishApp).
 */

import { parseRfc3339, ValidationError } from '@spincycle/protocol';
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
import { INTERNAL_ROUTES } from './api/internal-routes.js';
import { registerJobLogRoutes } from './api/job-logs.js';
import { registerJobRunnerRoutes } from './api/job-runners.js';
import { registerMetaRoutes } from './api/meta.js';
import { registerReportRoutes } from './api/reports.js';
import { registerRequestRoutes } from './api/requests.js';
import { registerScheduleRoutes } from './api/schedules.js';
import { InternalAuth } from './auth/internal.js';
import { authMiddleware } from './auth/middleware.js';
import type { Authenticator } from './auth.js';
import type { RequestCatalog } from './catalog.js';
import type { JobRunnerLiveness } from './jr-liveness.js';
import { registerMetricsRoute } from './metrics-route.js';
import { type CreateRate, createRateLimit, TokenBuckets } from './rate-limit.js';
import { registerReadyRoute } from './ready.js';
import { SHUTTING_DOWN_MESSAGE } from './request-lifecycle.js';
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

/**
 * A finish whose `finishedAt` is no time (month 13, 25:00) is a 400 naming the
 * field: the FinishRequest pattern alone takes it, and the finish would be
 * stored without a time.
 */
const finishedAtIsTime: RequestHandler = (req, _res, next) => {
  const at = (req.body as { finishedAt?: unknown } | undefined)?.finishedAt;
  if (typeof at === 'string' && !parseRfc3339(at))
    return next(
      new ValidationError(
        `invalid FinishRequest: field 'finishedAt': finishedAt must be an RFC 3339 time, got '${at.slice(0, 40)}'`,
        'finishedAt',
      ),
    );
  next();
};

export function buildApp(deps: AppDeps): Express {
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
        internal: deps.internalAuth ?? new InternalAuth(),
      }),
      ...(deps.createRate
        ? [on([['post', '/api/v1/requests']], createRateLimit(new TokenBuckets(deps.createRate)))]
        : []),
      on(INTERNAL_ROUTES, withBodyLimit(deps.internalBodyLimit ?? '64mb')),
    ],
  });
  app.use(on([['put', '/api/v1/requests/:id/finish']], finishedAtIsTime));
  registerRequestRoutes(app, deps.services, deps.isDraining);
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
