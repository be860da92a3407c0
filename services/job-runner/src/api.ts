/**
 * The JR's HTTP API. Bodies arrive parsed by service-kit;
 * errors are thrown as the typed classes of @spincycle/protocol and mapped to
 * responses by service-kit's single error handler.
 */
import {
  BadRequestError,
  type ChainBatchOutcome,
  parseJobChainBatch,
  ShuttingDownError,
  SpinCycleError,
} from '@spincycle/protocol';
import { sendJson } from '@spincycle/service-kit';
import { type Traverser, validateJobChain, validateSuspendedJobChain } from '@spincycle/traversal';
import type { Express, Request, Response } from 'express';
import { type ChainRegistry, SHUTTING_DOWN_MESSAGE } from './registry.js';

export interface ApiDeps {
  registry: ChainRegistry;
  /** Base URL this JR reports to the RM (scheme://host:port). */
  baseUrl: () => string;
}

/** Most chains one `POST /api/v1/job-chains/batch` may carry (an RM sends far fewer). */
export const MAX_BATCH_CHAINS = 1000;

function accepted(res: Response, baseUrl: string, requestId: string): void {
  res.setHeader('Location', `${baseUrl}/api/v1/job-chains/${encodeURIComponent(requestId)}`);
  res.status(200).end();
}

export function registerRoutes(app: Express, deps: ApiDeps): void {
  const { registry } = deps;
  const refuseWhenDraining = () => {
    if (registry.draining) throw new ShuttingDownError(SHUTTING_DOWN_MESSAGE);
  };

  app.post('/api/v1/job-chains', (req: Request, res: Response) => {
    refuseWhenDraining();
    if (req.body === undefined) throw new BadRequestError('invalid JobChain: body must be a JSON object');
    const valid = validateJobChain(req.body, 'new');
    const t = registry.addNew(valid);
    accepted(res, deps.baseUrl(), t.requestId);
    t.start();
  });

  // Our addition: several new chains in one call (an RM under load). Each one is
  // taken or refused on its own with the status the single call would answer.
  app.post('/api/v1/job-chains/batch', (req: Request, res: Response) => {
    refuseWhenDraining();
    const chains = parseJobChainBatch(req.body, MAX_BATCH_CHAINS);
    const taken: Traverser[] = [];
    const results = chains.map((chain): ChainBatchOutcome => {
      const id = (chain as { requestId?: unknown } | null)?.requestId;
      const requestId = typeof id === 'string' ? id : '';
      try {
        taken.push(registry.addNew(validateJobChain(chain, 'new')));
        return { requestId, status: 200 };
      } catch (err) {
        // Never thrown: chains taken before this one must still start.
        if (!(err instanceof SpinCycleError))
          return { requestId, status: 500, message: `job chain not taken: ${String(err)}` };
        return { requestId, status: err.httpStatus, message: err.message };
      }
    });
    sendJson(res, 200, { jrURL: deps.baseUrl(), results });
    for (const t of taken) t.start();
  });

  app.post('/api/v1/job-chains/resume', (req: Request, res: Response) => {
    refuseWhenDraining();
    if (req.body === undefined)
      throw new BadRequestError('invalid SuspendedJobChain: body must be a JSON object');
    const valid = validateSuspendedJobChain(req.body);
    const t = registry.addResumed(valid);
    accepted(res, deps.baseUrl(), t.requestId);
    t.start();
  });

  app.put('/api/v1/job-chains/:requestId/stop', async (req: Request, res: Response) => {
    await registry.stop(String(req.params.requestId));
    res.status(200).end();
  });

  app.get('/api/v1/status/running', (req: Request, res: Response) => {
    const q = req.query.requestId;
    const requestId = typeof q === 'string' ? q : Array.isArray(q) ? String(q[0] ?? '') : undefined;
    sendJson(res, 200, registry.status(requestId));
  });
}
