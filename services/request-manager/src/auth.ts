/**
 * The auth seam. Every call is authenticated (who is the caller?) and the
 * operations `start` and `stop` are authorized BEFORE anything is stored or
 * changed; `read` before a request's args, job chain or job log is answered. The defaults authenticate everyone as the
 * anonymous caller and allow everything, as the original's default plugin;
 * the auth plugin (ACLs, admin roles, strict mode) plugs in here later.
 */

import { type Request, type RequestOp, UnauthorizedError } from '@spincycle/protocol';
import type { Request as HttpRequest } from 'express';

export interface Caller {
  /** User name; stored as the request's `user`. `""` for the anonymous caller. */
  name: string;
  roles: string[];
}

export const ANONYMOUS: Caller = Object.freeze({ name: '', roles: [] }) as Caller;

export interface Authenticator {
  /** Who is calling; throw UnauthorizedError to reject the call (401). */
  authenticate(req: HttpRequest): Caller | Promise<Caller>;
}

/** The decision of an Authorizer. */
export type AuthDecision = { allowed: true } | { allowed: false; reason: string };

/** Which requests a caller may read: all, or their own plus those of the listed types (find filters on this in SQL). */
export type ReadScope = { all: true } | { all: false; user: string; types: string[] };

export interface Authorizer {
  /**
   * May `caller` perform `op` on `request`? For the `start` of a create the
   * request is the new one (id, type, checked args; no JobChain: it is asked
   * before the chain is built, so a denied caller costs no build), not yet
   * stored; for `PUT …/start` and `stop` the stored one (with args); for
   * `read` the stored row (without args).
   */
  authorize(caller: Caller, op: RequestOp, request: Request): AuthDecision | Promise<AuthDecision>;
  /**
   * The requests `caller` may read, among request types `types`, for find.
   * Without it find asks `authorize(caller, 'read', row)` for each row found.
   */
  readScope?(caller: Caller, types: readonly string[]): ReadScope;
}

export const anonymousAuthenticator: Authenticator = { authenticate: () => ANONYMOUS };
export const allowAllAuthorizer: Authorizer = {
  authorize: () => ({ allowed: true }),
  readScope: () => ({ all: true }),
};

/** Throws UnauthorizedError (401, as the original) when the authorizer denies. */
export async function requireAuthorized(
  authorizer: Authorizer,
  caller: Caller,
  op: RequestOp,
  request: Request,
): Promise<void> {
  const decision = await authorizer.authorize(caller, op, request);
  if (!decision.allowed)
    throw new UnauthorizedError(decision.reason || `denied: ${op} of request ${request.id}`);
}
