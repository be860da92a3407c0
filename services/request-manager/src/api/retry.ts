/** `POST /api/v1/requests/{id}/retry` (request-retry.ts): 200 with the request, RUNNING again. */
import { drainingGuard, sendJson } from '@spincycle/service-kit';
import type { Express } from 'express';
import { SHUTTING_DOWN_MESSAGE } from '../request-lifecycle.js';
import type { RequestRetry } from '../request-retry.js';
import { callerOf, param } from './context.js';

export function registerRetryRoute(app: Express, retry: RequestRetry, isDraining: () => boolean): void {
  app.post(
    '/api/v1/requests/:id/retry',
    drainingGuard(isDraining, SHUTTING_DOWN_MESSAGE),
    async (req, res) => {
      sendJson(res, 200, await retry.retry(callerOf(res), param(req, 'id')));
    },
  );
}
