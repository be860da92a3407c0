/**
 * Our addition: a Job Runner's job-log entries, progress and finishes in one
 * call. Under /api/v1/internal/, so only Job Runners may call it (see
 * internal-routes.ts).
 */
import { parseReportBatch } from '@spincycle/protocol';
import { sendJson } from '@spincycle/service-kit';
import type { Express } from 'express';
import { callingJobRunner } from '../auth/internal.js';
import type { ReportIntake } from '../report-intake.js';

export function registerReportRoutes(app: Express, intake: ReportIntake): void {
  app.post('/api/v1/internal/reports', async (req, res) => {
    sendJson(res, 200, await intake.report(parseReportBatch(req.body), callingJobRunner(res)));
  });
}
