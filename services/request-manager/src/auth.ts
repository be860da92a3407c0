/**
 * The auth seam (reference §10). Every call is authenticated (who is the
 * caller?) and the operations `start` and `stop` are authorized BEFORE
 * anything is stored or changed. The defaults authenticate everyone as the
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

export interface Authorizer {
  /**
   * May `caller` perform `op` on `request`? For the `start` of a create the
   * request is the new one (id, type, checked args; no JobChain: it is asked
   * before the chain is built, so a denied caller costs no build), not yet
   * stored; for `PUT …/start` and `stop` the stored one (with args).
   */
  authorize(caller: Caller, op: RequestOp, request: Request): AuthDecision | Promise<AuthDecision>;
}

export const anonymousAuthenticator: Authenticator = { authenticate: () => ANONYMOUS };
export const allowAllAuthorizer: Authorizer = { authorize: () => ({ allowed: true }) };

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
