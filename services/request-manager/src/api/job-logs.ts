/** Job log routes: the original per-entry POST, our batch POST, and the reads. */

import { sendJson, sendJsonText } from '@spincycle/service-kit';
import type { Express } from 'express';
import type { RequestService } from '../request-service.js';
import { param } from './context.js';

export function registerJobLogRoutes(app: Express, service: RequestService): void {
  // Registered on the app itself (not a sub-router) so the 405 fallback sees every path.
  const r = app;

  r.post('/api/v1/requests/:id/log', async (req, res) => {
    sendJson(res, 201, await service.postLog(param(req, 'id'), req.body));
  });

  r.get('/api/v1/requests/:id/log', async (req, res) => {
    sendJsonText(res, 200, await service.listLogsJson(param(req, 'id')));
  });

  r.get('/api/v1/requests/:id/log/:jobId', async (req, res) => {
    sendJson(res, 200, await service.latestLog(param(req, 'id'), param(req, 'jobId')));
  });

  // Our addition: entries of any requests in one call; existing (request, job, try) keys are skipped.
  r.post('/api/v1/job-logs', async (req, res) => {
    sendJson(res, 201, await service.postLogs(req.body));
  });
}
