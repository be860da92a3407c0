/**
 * The RM's express app, built from its dependencies so tests can run it
 * in-process on port 0. Typed errors become responses in one place
 * (service-kit's finishApp).
 */

import { createApp, drainingGuard, finishApp, type Logger } from '@spincycle/service-kit';
import type { Express, Request } from 'express';
import { registerJobLogRoutes } from './api/job-logs.js';
import { registerJobRunnerRoutes } from './api/job-runners.js';
import { registerMetaRoutes } from './api/meta.js';
import { registerReportRoutes } from './api/reports.js';
import { registerRequestRoutes } from './api/requests.js';
import { InternalAuth } from './auth/internal.js';
import { authMiddleware } from './auth/middleware.js';
import type { Authenticator } from './auth.js';
import type { RequestCatalog } from './catalog.js';
import type { JobRunnerLiveness } from './jr-liveness.js';
import { type RequestService, SHUTTING_DOWN_MESSAGE } from './request-service.js';
import { uiStatic } from './ui-static.js';

const isCreateOrStart = (req: Request) =>
  (req.method === 'POST' && req.path === '/api/v1/requests') ||
  (req.method === 'PUT' && /^\/api\/v1\/requests\/[^/]+\/start$/.test(req.path));

export interface AppDeps {
  service: RequestService;
  catalog: RequestCatalog;
  running: (requestId?: string) => Promise<unknown>;
  /** Job Runner heartbeats (`/api/v1/job-runners…`); absent: those routes are not served. */
  liveness?: JobRunnerLiveness;
  authenticator: Authenticator;
  /** Job Runner credentials on the internal routes (default: none required). */
  internalAuth?: InternalAuth;
  logger: Logger;
  isDraining: () => boolean;
  /** Largest accepted body, e.g. `64mb`. */
  bodyLimit?: string;
}

export function buildApp(deps: AppDeps): Express {
  const app = createApp({
    logger: deps.logger.child({ component: 'http' }),
    bodyLimit: deps.bodyLimit,
    // Create and start get 503 while draining before their body is even read.
    // Then every API call is authenticated (401), also before its body is read: Job
    // Runner credentials on the internal routes (api/internal-routes.ts), users elsewhere.
    beforeBody: [
      drainingGuard(deps.isDraining, SHUTTING_DOWN_MESSAGE, isCreateOrStart),
      authMiddleware({
        authenticator: deps.authenticator,
        internal: deps.internalAuth ?? new InternalAuth(),
      }),
    ],
  });
  registerRequestRoutes(app, deps.service, deps.isDraining);
  registerJobLogRoutes(app, deps.service);
  registerReportRoutes(app, deps.service);
  registerMetaRoutes(app, deps.catalog, deps.running);
  if (deps.liveness) registerJobRunnerRoutes(app, deps.liveness);
  app.use('/ui', uiStatic());
  finishApp(app, deps.logger.child({ component: 'http' }));
  return app;
}
