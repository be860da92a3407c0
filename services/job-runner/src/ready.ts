/**
 * `GET /ready`: 200 `OK` while this JR takes new chains; 503 with the standard
 * error body once it drains (SIGTERM: it hands its chains back to the RM), so
 * a Kubernetes Service or load balancer stops sending it chains first.
 * Liveness stays on `/health`: a draining JR must be left to finish its hand-off.
 */
import { ShuttingDownError } from '@spincycle/protocol';
import type { Express } from 'express';
import { SHUTTING_DOWN_MESSAGE } from './registry.js';

export function registerReadyRoute(app: Express, isDraining: () => boolean): void {
  app.get('/ready', (_req, res) => {
    if (isDraining()) throw new ShuttingDownError(`not ready: ${SHUTTING_DOWN_MESSAGE}`);
    res.type('text/plain').send('OK');
  });
}
