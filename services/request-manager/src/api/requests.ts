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
import { parseFindQuery } from '../find-query.js';
import { SHUTTING_DOWN_MESSAGE } from '../request-lifecycle.js';
import { callerOf, param, type RequestServices, rawQuery, sendJsonText } from './context.js';

export function registerRequestRoutes(
  app: Express,
  { lifecycle, intake, queries }: RequestServices,
  isDraining: () => boolean,
): void {
  // Registered on the app itself (not a sub-router) so the 405 fallback sees every path.
  const r = app;
  const accepting = drainingGuard(isDraining, SHUTTING_DOWN_MESSAGE);

  r.post('/api/v1/requests', accepting, async (req, res) => {
    const created = await lifecycle.create(callerOf(res), parseCreateRequest(req.body));
    res.setHeader('Location', `/api/v1/requests/${created.id}`);
    sendJson(res, 201, created);
  });

  r.get('/api/v1/requests', async (req, res) => {
    sendJson(res, 200, await queries.find(parseFindQuery(rawQuery(req))));
  });

  r.get('/api/v1/requests/:id', async (req, res) => {
    sendJsonParts(res, 200, await queries.getJsonParts(param(req, 'id')));
  });

  r.get('/api/v1/requests/:id/job-chain', async (req, res) => {
    sendJsonText(res, 200, await queries.jobChainJson(param(req, 'id')));
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
