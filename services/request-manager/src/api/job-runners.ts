/** Job Runner liveness: the heartbeat JRs send (internal) and the list operators read. */

import { parseHeartbeat } from '@spincycle/protocol';
import { sendJson } from '@spincycle/service-kit';
import type { Express } from 'express';
import { callingJobRunner } from '../auth/internal.js';
import type { JobRunnerLiveness } from '../jr-liveness.js';

export function registerJobRunnerRoutes(app: Express, liveness: JobRunnerLiveness): void {
  // Registered on the app itself (not a sub-router) so the 405 fallback sees every path.
  app.put('/api/v1/job-runners/heartbeat', async (req, res) => {
    sendJson(res, 200, await liveness.heartbeat(parseHeartbeat(req.body), callingJobRunner(res)));
  });

  app.get('/api/v1/job-runners', async (_req, res) => {
    sendJson(res, 200, await liveness.list());
  });
}
