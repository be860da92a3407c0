/** GET /api/v1/schedules: the configured schedules with their last and next runs. */
import { sendJson } from '@spincycle/service-kit';
import type { Express } from 'express';

export function registerScheduleRoutes(app: Express, list: () => Promise<unknown>): void {
  app.get('/api/v1/schedules', async (_req, res) => {
    sendJson(res, 200, await list());
  });
}
