/** What the route modules share: the request services and the caller of the current HTTP request. */
import type { Request as HttpRequest, Response } from 'express';
import { ANONYMOUS, type Caller } from '../auth.js';
import type { Explainer } from '../explain.js';
import type { Idempotency } from '../idempotency.js';
import type { Planner } from '../plan.js';
import type { ReportIntake } from '../report-intake.js';
import type { RequestLifecycle } from '../request-lifecycle.js';
import type { RequestQueries } from '../request-queries.js';

/** The services behind the request and job-log routes. */
export interface RequestServices {
  lifecycle: RequestLifecycle;
  intake: ReportIntake;
  queries: RequestQueries;
  /** Idempotency-Key of creates. */
  idempotency: Idempotency;
  /** Dry-run creates (plans). */
  planner: Planner;
  /** GET /requests/{id}/explain. */
  explainer: Explainer;
}

export function callerOf(res: Response): Caller {
  return (res.locals.caller as Caller | undefined) ?? ANONYMOUS;
}

/** The raw query string of a request (without `?`), for parsers that need repeated keys as sent. */
export function rawQuery(req: HttpRequest): string {
  const q = req.originalUrl.indexOf('?');
  return q === -1 ? '' : req.originalUrl.slice(q + 1);
}

export { sendJsonText } from '@spincycle/service-kit';

/** A route parameter as a string. */
export function param(req: HttpRequest, name: string): string {
  const v = (req.params as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v.join('/') : '';
}
