/** Routes of /api/v1/requests: the public request API and the JR callbacks. */

import {
  parseCreateRequest,
  parseFinishRequest,
  parseRequestProgress,
  parseSuspendedJobChain,
} from '@spincycle/protocol';
import { drainingGuard, sendJson, sendJsonParts } from '@spincycle/service-kit';
import type { Express } from 'express';
import { callingJobRunner } from '../auth/internal.js';
import { nextPagePath, parseFindQuery } from '../find-query.js';
import { SHUTTING_DOWN_MESSAGE } from '../request-lifecycle.js';
import { callerOf, param, type RequestServices, rawQuery, sendJsonText } from './context.js';
import { createParamsOf } from './create-params.js';

export function registerRequestRoutes(
  app: Express,
  { lifecycle, intake, queries, idempotency, planner, explainer }: RequestServices,
  isDraining: () => boolean,
): void {
  // Registered on the app itself (not a sub-router) so the 405 fallback sees every path.
  const r = app;
  const accepting = drainingGuard(isDraining, SHUTTING_DOWN_MESSAGE);

  // dryRun and Idempotency-Key were checked before the body was read (api/create-params.ts).
  r.post('/api/v1/requests', accepting, async (req, res) => {
    const caller = callerOf(res);
    const body = parseCreateRequest(req.body);
    const { dryRun, idempotencyKey } = createParamsOf(res);
    if (dryRun) return sendJson(res, 200, await planner.plan(caller, body));
    if (idempotencyKey === undefined) {
      const created = await lifecycle.create(caller, body);
      res.setHeader('Location', `/api/v1/requests/${created.id}`);
      return sendJson(res, 201, created);
    }
    const { request, replayed } = await idempotency.create(
      caller,
      idempotencyKey,
      body,
      () => lifecycle.create(caller, body),
      (id) => queries.get(id),
    );
    res.setHeader('Location', `/api/v1/requests/${request.id}`);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    sendJson(res, replayed ? 200 : 201, request);
  });

  r.get('/api/v1/requests', async (req, res) => {
    const search = rawQuery(req);
    const page = await queries.findPage(callerOf(res), parseFindQuery(search));
    if (page.nextCursor) {
      // The body stays the array of the contract; the next page is named in headers.
      res.setHeader('X-Next-Cursor', page.nextCursor);
      res.setHeader('Link', `<${nextPagePath('/api/v1/requests', search, page.nextCursor)}>; rel="next"`);
    }
    sendJson(res, 200, page.requests);
  });

  r.get('/api/v1/requests/:id', async (req, res) => {
    sendJsonParts(res, 200, await queries.getJsonParts(callerOf(res), param(req, 'id')));
  });

  r.get('/api/v1/requests/:id/explain', async (req, res) => {
    sendJson(res, 200, await explainer.explain(param(req, 'id')));
  });

  r.get('/api/v1/requests/:id/job-chain', async (req, res) => {
    sendJsonText(res, 200, await queries.jobChainJson(callerOf(res), param(req, 'id')));
  });

  r.put('/api/v1/requests/:id/start', accepting, async (req, res) => {
    await lifecycle.start(callerOf(res), param(req, 'id'));
    res.status(200).end();
  });

  r.put('/api/v1/requests/:id/stop', async (req, res) => {
    await lifecycle.stop(callerOf(res), param(req, 'id'));
    res.status(200).end();
  });

  // JR callbacks.
  r.put('/api/v1/requests/:id/finish', async (req, res) => {
    await intake.finish(param(req, 'id'), parseFinishRequest(req.body), callingJobRunner(res));
    res.status(200).end();
  });

  r.put('/api/v1/requests/:id/suspend', async (req, res) => {
    await intake.suspend(param(req, 'id'), parseSuspendedJobChain(req.body), callingJobRunner(res));
    res.status(200).end();
  });

  r.put('/api/v1/requests/:id/progress', async (req, res) => {
    await intake.progress(param(req, 'id'), parseRequestProgress(req.body), callingJobRunner(res));
    sendJsonText(res, 200, 'null');
  });
}
