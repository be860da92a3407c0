/** Routes of /api/v1/requests: the public request API and the JR callbacks. */

import { drainingGuard, sendJson, sendJsonParts } from '@spincycle/service-kit';
import type { Express } from 'express';
import { parseFindQuery } from '../find-query.js';
import { type RequestService, SHUTTING_DOWN_MESSAGE } from '../request-service.js';
import { callerOf, param, rawQuery, sendJsonText } from './context.js';

export function registerRequestRoutes(
  app: Express,
  service: RequestService,
  isDraining: () => boolean,
): void {
  // Registered on the app itself (not a sub-router) so the 405 fallback sees every path.
  const r = app;
  const accepting = drainingGuard(isDraining, SHUTTING_DOWN_MESSAGE);

  r.post('/api/v1/requests', accepting, async (req, res) => {
    const created = await service.create(callerOf(res), req.body);
    res.setHeader('Location', `/api/v1/requests/${created.id}`);
    sendJson(res, 201, created);
  });

  r.get('/api/v1/requests', async (req, res) => {
    sendJson(res, 200, await service.find(parseFindQuery(rawQuery(req))));
  });

  r.get('/api/v1/requests/:id', async (req, res) => {
    sendJsonParts(res, 200, await service.getJsonParts(param(req, 'id')));
  });

  r.get('/api/v1/requests/:id/job-chain', async (req, res) => {
    sendJsonText(res, 200, await service.jobChainJson(param(req, 'id')));
  });

  r.put('/api/v1/requests/:id/start', accepting, async (req, res) => {
    await service.start(callerOf(res), param(req, 'id'));
    res.status(200).end();
  });

  r.put('/api/v1/requests/:id/stop', async (req, res) => {
    await service.stop(callerOf(res), param(req, 'id'));
    res.status(200).end();
  });

  // JR callbacks.
  r.put('/api/v1/requests/:id/finish', async (req, res) => {
    await service.finish(param(req, 'id'), req.body);
    res.status(200).end();
  });

  r.put('/api/v1/requests/:id/suspend', async (req, res) => {
    await service.suspend(param(req, 'id'), req.body);
    res.status(200).end();
  });

  r.put('/api/v1/requests/:id/progress', async (req, res) => {
    await service.progress(param(req, 'id'), req.body);
    sendJsonText(res, 200, 'null');
  });
}
