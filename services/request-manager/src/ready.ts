/**
 * `GET /ready`: whether a load balancer or Kubernetes should send this RM
 * traffic. 200 `OK` while serving; 503 with the standard error body while it
 * drains on shutdown or while its database cannot be reached. Liveness stays
 * on `/health`, which touches nothing: an RM whose database is down must be
 * taken out of rotation, not restarted.
 *
 * The database is checked with `SELECT 1`, at most once per READY_CACHE_MS
 * (probes of several load balancers share one check) and given at most
 * READY_DB_TIMEOUT_MS (a database that hangs is as unusable as one that refuses).
 */
import { SpinCycleError } from '@spincycle/protocol';
import type { Express } from 'express';
import { SHUTTING_DOWN_MESSAGE } from './request-lifecycle.js';

const READY_CACHE_MS = 1_000;
const READY_DB_TIMEOUT_MS = 2_000;

/** The RM cannot serve now (HTTP 503); the message names why. */
class NotReadyError extends SpinCycleError {
  override readonly httpStatus: number = 503;
  override readonly code: string = 'not_ready';
}

export interface ReadyDeps {
  isDraining: () => boolean;
  /** A cheap round trip to the database (`SELECT 1`); rejects when it is unreachable. */
  pingDb: () => Promise<unknown>;
}

/** Runs `ping` at most once per `cacheMs`; concurrent callers share a check in flight. */
export class DbCheck {
  private last: { at: number; error: string | undefined } | undefined;
  private inFlight: Promise<string | undefined> | undefined;

  constructor(
    private readonly ping: () => Promise<unknown>,
    private readonly cacheMs = READY_CACHE_MS,
    private readonly timeoutMs = READY_DB_TIMEOUT_MS,
  ) {}

  /** undefined when the database answered, else why not. */
  check(): Promise<string | undefined> {
    if (this.last && Date.now() - this.last.at < this.cacheMs) return Promise.resolve(this.last.error);
    this.inFlight ??= this.run().then((error) => {
      this.last = { at: Date.now(), error };
      this.inFlight = undefined;
      return error;
    });
    return this.inFlight;
  }

  private async run(): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
    });
    try {
      return await Promise.race([
        this.ping().then(
          () => undefined,
          (err: unknown) => (err as { code?: string }).code ?? (err as Error).name ?? 'error',
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export function registerReadyRoute(app: Express, deps: ReadyDeps): void {
  const db = new DbCheck(deps.pingDb);
  app.get('/ready', async (_req, res) => {
    if (deps.isDraining()) throw new NotReadyError(`not ready: ${SHUTTING_DOWN_MESSAGE}`);
    const problem = await db.check();
    // The driver's error code only (ECONNREFUSED, ETIMEDOUT…): never a DSN or a password.
    if (problem !== undefined) throw new NotReadyError(`not ready: database unreachable (${problem})`);
    res.type('text/plain').send('OK');
  });
}
