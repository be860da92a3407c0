/**
 * Authentication for every RM call, run before the body is read:
 *  - internal routes (INTERNAL_ROUTES) need Job Runner credentials when any are
 *    configured (internal token, client certificates) and skip user
 *    authentication; without them they are authenticated like any call (as the
 *    original);
 *  - every other `/api` call is authenticated by the user Authenticator;
 *  - `/version` and `/health` stay open (load balancers, probes).
 * The caller is left in `res.locals.caller`. Failures are 401.
 */
import { type SpinCycleError, UnauthorizedError, UpstreamError } from '@spincycle/protocol';
import { type RequestHandler, Router } from 'express';
import { INTERNAL_ROUTES, type InternalMethod } from '../api/internal-routes.js';
import type { Authenticator, Caller } from '../auth.js';
import type { InternalAuth } from './internal.js';

export interface AuthMiddlewareDeps {
  authenticator: Authenticator;
  internal: InternalAuth;
  /** Default: INTERNAL_ROUTES. */
  internalRoutes?: ReadonlyArray<readonly [InternalMethod, string]>;
}

/** A caller as the rest of the RM expects it, whatever an authenticator returned. */
export function normalizeCaller(value: unknown): Caller {
  const v = (value ?? {}) as { name?: unknown; roles?: unknown };
  const name = typeof v.name === 'string' ? v.name : '';
  const roles = Array.isArray(v.roles) ? v.roles.filter((r): r is string => typeof r === 'string') : [];
  return { name, roles };
}

/**
 * Any authenticator failure is a 401 carrying its message (as the original API answers), except that the
 * identity provider's keys could not be had (UpstreamError, 502): the caller is not at fault.
 */
function asUnauthorized(err: unknown): SpinCycleError {
  if (err instanceof UnauthorizedError || err instanceof UpstreamError) return err;
  return new UnauthorizedError(err instanceof Error && err.message ? err.message : 'authentication failed');
}

const API_PATH = /^\/api(\/|$)/i;

export function authMiddleware(deps: AuthMiddlewareDeps): Router {
  const router = Router();
  const internalGuard: RequestHandler = (req, res, next) => {
    if (res.locals.internal || !deps.internal.enabled) return next();
    try {
      res.locals.caller = deps.internal.verify(req);
      res.locals.internal = true;
      next();
    } catch (err) {
      next(asUnauthorized(err));
    }
  };
  for (const [method, path] of deps.internalRoutes ?? INTERNAL_ROUTES) router[method](path, internalGuard);
  router.use(async (req, res, next) => {
    if (res.locals.internal || !API_PATH.test(req.path)) return next();
    try {
      res.locals.caller = normalizeCaller(await deps.authenticator.authenticate(req));
      next();
    } catch (err) {
      next(asUnauthorized(err));
    }
  });
  return router;
}
