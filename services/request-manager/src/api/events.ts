/** `GET /api/v1/requests/{id}/events`: the request's live events (events/streams.ts). */
import type { Express } from 'express';
import { parseCursor } from '../events/cursor.js';
import type { EventStreams } from '../events/streams.js';
import { callerOf, param } from './context.js';

export function registerEventRoutes(app: Express, streams: EventStreams): void {
  app.get('/api/v1/requests/:id/events', async (req, res) => {
    // A reconnecting EventSource sends Last-Event-ID; `?after=` serves clients that cannot set headers.
    const header = req.get('Last-Event-ID');
    const after = typeof req.query.after === 'string' ? req.query.after : undefined;
    const cursor =
      header !== undefined && header !== ''
        ? parseCursor(header, 'Last-Event-ID')
        : parseCursor(after, 'after');
    await streams.serve(res, callerOf(res), param(req, 'id'), cursor);
  });
}
