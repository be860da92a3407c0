/**
 * Who may read `GET /metrics`: a scraper needs a credential whenever the RM
 * has any. Admitted: Job Runner credentials (the internal token or an
 * internal client certificate, which a Prometheus can hold) or an
 * authenticated user with one of `roles` (`auth.admin_roles` and `metrics`).
 * Without user authentication the API is open to everyone, and so is this.
 */
import { UnauthorizedError } from '@spincycle/protocol';
import { metricsHandler } from '@spincycle/service-kit';
import type { Express, RequestHandler } from 'express';
import { INTERNAL_TOKEN_HEADER, type InternalAuth } from './auth/internal.js';
import { normalizeCaller } from './auth/middleware.js';
import { type Authenticator, anonymousAuthenticator } from './auth.js';

export interface MetricsAccess {
  authenticator: Authenticator;
  internal: InternalAuth;
  /** Roles that may read metrics. */
  roles: readonly string[];
}

function metricsGuard(d: MetricsAccess): RequestHandler {
  return async (req, _res, next) => {
    try {
      if (d.internal.enabled) {
        try {
          d.internal.verify(req);
          return next();
        } catch (err) {
          // A wrong token is refused as such; without one, a user may still be admitted.
          if (req.headers[INTERNAL_TOKEN_HEADER] !== undefined) throw err;
        }
      }
      if (d.authenticator === anonymousAuthenticator) return next();
      const caller = normalizeCaller(await d.authenticator.authenticate(req));
      if (caller.roles.some((r) => d.roles.includes(r))) return next();
      throw new UnauthorizedError(
        `caller '${caller.name}' may not read metrics: needs the internal token or one of the roles ${d.roles.join(', ')}`,
      );
    } catch (err) {
      next(
        err instanceof UnauthorizedError
          ? err
          : new UnauthorizedError(
              err instanceof Error && err.message ? err.message : 'authentication failed',
            ),
      );
    }
  };
}

/** `GET /metrics` behind `metricsGuard`. */
export function registerMetricsRoute(app: Express, access: MetricsAccess): void {
  app.get('/metrics', metricsGuard(access), metricsHandler());
}
