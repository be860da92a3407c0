/** The request list and the running status. */

import { sendJson } from '@spincycle/service-kit';
import type { Express } from 'express';
import type { RequestCatalog } from '../catalog.js';

export function registerMetaRoutes(
  app: Express,
  catalog: RequestCatalog,
  running: (requestId?: string) => Promise<unknown>,
): void {
  // Registered on the app itself (not a sub-router) so the 405 fallback sees every path.
  const r = app;

  r.get('/api/v1/request-list', (_req, res) => {
    sendJson(res, 200, catalog.requestList());
  });

  r.get('/api/v1/status/running', async (req, res) => {
    const requestId = typeof req.query.requestId === 'string' ? req.query.requestId : undefined;
    sendJson(res, 200, await running(requestId));
  });
}
