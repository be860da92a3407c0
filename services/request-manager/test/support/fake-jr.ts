/**
 * A stand-in Job Runner for RM tests that need no real JR: it records the
 * chains, resumes and stops it receives and answers as told. Real HTTP on a
 * free port.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type JobChain,
  type JobStatus,
  parseJson,
  type SuspendedJobChain,
  stringifyJson,
} from '@spincycle/protocol';
import express from 'express';

export type FakeJrMode = 'accept' | 'refuse-400' | 'busy-503' | 'conflict-409' | 'hang';

export class FakeJr {
  url = '';
  mode: FakeJrMode = 'accept';
  /** What PUT stop answers for a chain it holds (404 for chains it does not hold). */
  stopStatus = 200;
  /** Called on a successful stop (e.g. to send finish to the RM like a real JR). */
  onStop: ((requestId: string) => Promise<void>) | undefined;
  readonly chains = new Map<string, JobChain>();
  readonly resumed: SuspendedJobChain[] = [];
  readonly stops: string[] = [];
  /** Run before a started chain is answered (e.g. to report for it as a fast JR would). */
  beforeAnswer: ((chain: JobChain) => Promise<void>) | undefined;
  /** status/running answer. */
  running: JobStatus[] = [];
  private server: Server | undefined;

  async start(port = 0): Promise<this> {
    const app = express();
    app.use(express.text({ type: () => true, limit: '200mb' }));
    const body = (req: express.Request) =>
      typeof req.body === 'string' && req.body ? parseJson(req.body) : undefined;
    const refuse = (res: express.Response): boolean => {
      if (this.mode === 'refuse-400') res.status(400).json({ message: 'invalid job chain: fake refusal' });
      else if (this.mode === 'busy-503')
        res
          .status(503)
          .json({ message: 'Job Runner is shutting down - no new job chains are being started' });
      else if (this.mode === 'conflict-409') res.status(409).json({ message: 'chain already exists' });
      else if (this.mode === 'hang')
        return true; // never answers
      else return false;
      return true;
    };
    app.post('/api/v1/job-chains', async (req, res) => {
      if (refuse(res)) return;
      const chain = body(req) as JobChain;
      this.chains.set(chain.requestId, chain);
      await this.beforeAnswer?.(chain);
      res.setHeader('Location', `${this.url}/api/v1/job-chains/${chain.requestId}`);
      res.status(200).end();
    });
    app.post('/api/v1/job-chains/resume', (req, res) => {
      if (refuse(res)) return;
      const sjc = body(req) as SuspendedJobChain;
      this.resumed.push(sjc);
      this.chains.set(sjc.requestId, sjc.jobChain);
      res.setHeader('Location', `${this.url}/api/v1/job-chains/${sjc.requestId}`);
      res.status(200).end();
    });
    app.put('/api/v1/job-chains/:id/stop', async (req, res) => {
      const id = req.params.id;
      this.stops.push(id);
      if (!this.chains.has(id)) return void res.status(404).json({ message: 'traverser not found' });
      if (this.stopStatus !== 200)
        return void res.status(this.stopStatus).json({ message: 'fake stop failure' });
      this.chains.delete(id);
      await this.onStop?.(id);
      res.status(200).end();
    });
    app.get('/api/v1/status/running', (req, res) => {
      const id = typeof req.query.requestId === 'string' ? req.query.requestId : undefined;
      const list = id ? this.running.filter((j) => j.requestId === id) : this.running;
      res.type('application/json').send(stringifyJson(list));
    });
    app.get('/version', (_req, res) => void res.type('text/plain').send('2.1.1'));
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s));
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A URL on which nothing listens (connections are refused). */
export async function deadUrl(): Promise<string> {
  const jr = await new FakeJr().start();
  const url = jr.url;
  await jr.close();
  return url;
}
