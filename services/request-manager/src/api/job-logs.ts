/** Job log routes: the original per-entry POST, our batch POST, and the reads. */

import { parseJobLog, parseJobLogs } from '@spincycle/protocol';
import { sendJson } from '@spincycle/service-kit';
import type { Express, Response } from 'express';
import { callingJobRunner } from '../auth/internal.js';
import { nextPagePath } from '../find-query.js';
import { parseLogQuery } from '../log-query.js';
import { callerOf, param, type RequestServices, rawQuery } from './context.js';

/**
 * A 200 JSON array written chunk by chunk as the chunks are read (chunked
 * transfer encoding): each chunk waits until the one before has drained, so
 * a big log is never held whole and a slow reader slows the reads. A failure
 * after the first byte can only cut the connection.
 */
async function streamJsonArray(res: Response, chunks: AsyncIterable<string[]>): Promise<void> {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  let sep = '[';
  try {
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      const text = sep + chunk.join(',');
      sep = ',';
      if (!res.write(text)) await drained(res);
    }
  } catch (err) {
    if (!res.headersSent) throw err;
    res.destroy();
    return;
  }
  res.end(sep === '[' ? '[]' : ']');
}

function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function registerJobLogRoutes(app: Express, { intake, queries }: RequestServices): void {
  // Registered on the app itself (not a sub-router) so the 405 fallback sees every path.
  const r = app;

  r.post('/api/v1/requests/:id/log', async (req, res) => {
    sendJson(res, 201, await intake.postLog(param(req, 'id'), parseJobLog(req.body), callingJobRunner(res)));
  });

  r.get('/api/v1/requests/:id/log', async (req, res) => {
    const search = rawQuery(req);
    const page = await queries.logPage(callerOf(res), param(req, 'id'), parseLogQuery(search));
    if (page.nextCursor) {
      res.setHeader('X-Next-Cursor', page.nextCursor);
      res.setHeader('Link', `<${nextPagePath(req.path, search, page.nextCursor)}>; rel="next"`);
    }
    await streamJsonArray(res, page.chunks);
  });

  r.get('/api/v1/requests/:id/log/:jobId', async (req, res) => {
    sendJson(res, 200, await queries.latestLog(callerOf(res), param(req, 'id'), param(req, 'jobId')));
  });

  // Our addition: entries of any requests in one call; existing (request, job, try) keys are skipped.
  r.post('/api/v1/job-logs', async (req, res) => {
    sendJson(res, 201, await intake.postLogs(parseJobLogs(req.body), callingJobRunner(res)));
  });
}
