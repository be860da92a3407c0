/** Job log routes: the original per-entry POST, our batch POST, and the reads. */

import { parseJobLog, parseJobLogs } from '@spincycle/protocol';
import { sendJson, sendJsonText } from '@spincycle/service-kit';
import type { Express } from 'express';
import { callingJobRunner } from '../auth/internal.js';
import { param, type RequestServices } from './context.js';

export function registerJobLogRoutes(app: Express, { intake, queries }: RequestServices): void {
  // Registered on the app itself (not a sub-router) so the 405 fallback sees every path.
  const r = app;

  r.post('/api/v1/requests/:id/log', async (req, res) => {
    sendJson(res, 201, await intake.postLog(param(req, 'id'), parseJobLog(req.body), callingJobRunner(res)));
  });

  r.get('/api/v1/requests/:id/log', async (req, res) => {
    sendJsonText(res, 200, await queries.listLogsJson(param(req, 'id')));
  });

  r.get('/api/v1/requests/:id/log/:jobId', async (req, res) => {
    sendJson(res, 200, await queries.latestLog(param(req, 'id'), param(req, 'jobId')));
  });

  // Our addition: entries of any requests in one call; existing (request, job, try) keys are skipped.
  r.post('/api/v1/job-logs', async (req, res) => {
    sendJson(res, 201, await intake.postLogs(parseJobLogs(req.body), callingJobRunner(res)));
  });
}
