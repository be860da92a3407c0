/**
 * What the HTTP edge records of each call: its trace (W3C `traceparent`, a
 * new one when the caller sent none), under which the call is handled so
 * that its log lines and outgoing calls carry the trace id; and
 * `spincycle_http_requests_total` by route template, never the raw path.
 */
import {
  childSpan,
  newTrace,
  parseTraceparent,
  runWithTrace,
  TRACEPARENT_HEADER,
  type TraceContext,
} from '@spincycle/protocol';
import type { RequestHandler, Response } from 'express';
import { counter } from './metrics.js';

const TRACE = 'spincycleTrace';
const ROUTE = 'spincycleRoute';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** The trace a call is handled under (set by `observeCalls`). */
export function callTrace(res: Response): TraceContext | undefined {
  return res.locals[TRACE] as TraceContext | undefined;
}

/** Middleware that names the route of a call (added in front of each route's handlers). */
export function routeMarker(pattern: unknown): RequestHandler {
  const route = String(pattern);
  return (_req, res, next) => {
    res.locals[ROUTE] = route;
    next();
  };
}

/**
 * First middleware of an app: the call's trace (a child span of the caller's,
 * or a new trace), the rest of the call run under it, and the call counted
 * when its answer is sent. `service` is the label value (`rm`, `jr`).
 */
export function observeCalls(service: string): RequestHandler {
  const calls = counter('httpRequests');
  return (req, res, next) => {
    const header = req.headers[TRACEPARENT_HEADER];
    const parent = parseTraceparent(typeof header === 'string' ? header : undefined);
    const trace = parent ? childSpan(parent) : newTrace();
    res.locals[TRACE] = trace;
    res.on('finish', () => {
      calls.inc({
        service,
        method: METHODS.has(req.method) ? req.method : 'OTHER',
        // Calls that matched no route (404, or refused before routing) share one value.
        route: (res.locals[ROUTE] as string | undefined) ?? 'unmatched',
        status: String(res.statusCode),
      });
    });
    runWithTrace(trace, next);
  };
}

/**
 * The call's trace entered again: the body arrives through stream events,
 * which run outside the context the call started in, so the handlers after
 * the body reader would otherwise run without it.
 */
export const reenterTrace: RequestHandler = (_req, res, next) => {
  const trace = res.locals[TRACE] as TraceContext | undefined;
  if (trace) runWithTrace(trace, next);
  else next();
};
