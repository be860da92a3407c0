/** Job Runner liveness: the heartbeat JRs send (internal) and the list operators read. */

import { sendJson } from '@spincycle/service-kit';
import type { Express } from 'express';
import { type JobRunnerLiveness, parseHeartbeat } from '../jr-liveness.js';

export function registerJobRunnerRoutes(app: Express, liveness: JobRunnerLiveness): void {
  // Registered on the app itself (not a sub-router) so the 405 fallback sees every path.
  app.put('/api/v1/job-runners/heartbeat', async (req, res) => {
    sendJson(res, 200, await liveness.heartbeat(parseHeartbeat(req.body)));
  });

  app.get('/api/v1/job-runners', async (_req, res) => {
    sendJson(res, 200, await liveness.list());
  });
}
