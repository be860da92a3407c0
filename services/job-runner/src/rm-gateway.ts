/**
 * The JR's calls to the RM over HTTP, through the protocol package's
 * RmInternalClient. `rm_client.url` may list several RMs: a call that cannot
 * reach one (network error or timeout) goes to the next, and the one that
 * answered is tried first next time. Retrying is the reporter's job, so each
 * client makes a single attempt.
 *
 * Reports go to `POST /api/v1/internal/reports`. An RM from before that
 * endpoint answers 404/405: it then gets the same batch as the calls it knows
 * (`POST /api/v1/job-logs`, `PUT …/progress`, `PUT …/finish`, in that order),
 * and is asked again for the batched call after a while (it may have been
 * upgraded), so a rolling upgrade in either order loses nothing.
 */
import type { Agent as HttpsAgent } from 'node:https';
import {
  ApiError,
  type FinishOutcome,
  JOB_RUNNER_HEADER,
  type JobRunnerHeartbeat,
  type JobRunnerHeartbeatReply,
  type ReportBatch,
  type ReportResult,
  RmInternalClient,
  type SuspendedJobChain,
} from '@spincycle/protocol';
import { clientTlsAgent, type TlsFiles } from '@spincycle/service-kit';
import { inChainTrace, reportChains } from './chain-traces.js';
import type { HeartbeatSink } from './heartbeat.js';
import type { RmSink } from './reporter.js';

export interface RmGatewayOptions {
  timeoutMs: number;
  tls?: TlsFiles;
  /** Shared internal token the RM requires on its internal endpoints. */
  internalToken?: string;
}

/** Header carrying the internal token (the RM's auth.internal_token_file). */
export const INTERNAL_TOKEN_HEADER = 'X-Spincycle-Internal-Token';

/** How long an RM that lacks the report endpoint is served the single calls before it is asked again. */
const LEGACY_RECHECK_MS = 60_000;

/**
 * A report batch as the single calls of an older RM, with the same order
 * (entries, progress, finishes) and outcomes. A network error or 5xx fails the
 * whole batch, which the reporter sends again: the entries are stored once and
 * a repeated finish is answered `ok`, so nothing is applied twice.
 */
async function legacyReport(c: RmInternalClient, batch: ReportBatch): Promise<ReportResult> {
  if (batch.logs.length > 0) await c.postJobLogs(batch.logs);
  for (const p of batch.progress) {
    try {
      await c.progress(p);
    } catch (err) {
      // Best effort, as always: only a dead connection fails the batch.
      if (!(err instanceof ApiError) || err.status === undefined || err.status >= 500) throw err;
    }
  }
  const finishes: Record<string, FinishOutcome> = {};
  for (const f of batch.finishes) {
    try {
      await c.finish(f);
      finishes[f.requestId] = 'ok';
    } catch (err) {
      const status = err instanceof ApiError ? err.status : undefined;
      if (status === 409) finishes[f.requestId] = 'not_running';
      else if (status === 404) finishes[f.requestId] = 'not_found';
      else if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429)
        finishes[f.requestId] = 'invalid';
      else throw err;
    }
  }
  return { inserted: batch.logs.length, refused: [], finishes };
}

function unreachable(err: unknown): boolean {
  return err instanceof ApiError && err.status === undefined;
}

export class RmGateway implements RmSink, HeartbeatSink {
  private clients: RmInternalClient[];
  private current = 0;
  /** RMs without the batched report endpoint, until when to use the single calls with them. */
  private readonly legacyUntil = new Map<RmInternalClient, number>();
  private httpsAgent: HttpsAgent | undefined;
  private internalToken: string | undefined;
  /** Our advertised URL, sent on every call: the RM takes reports for a request only from the JR it records. */
  private jobRunnerUrl: string | undefined;

  constructor(
    readonly urls: readonly string[],
    private readonly opts: RmGatewayOptions,
  ) {
    if (urls.length === 0) throw new Error('RmGateway needs at least one RM URL');
    this.httpsAgent = clientTlsAgent(opts.tls);
    this.internalToken = opts.internalToken;
    this.clients = this.makeClients(opts.internalToken);
  }

  /**
   * Read the client TLS files again (`rm_client.tls.*`, a SIGHUP) and use them for new
   * connections; throws, keeping the old ones, when a file cannot be read. Calls under way
   * end on their connections.
   */
  reloadTls(): void {
    this.httpsAgent = clientTlsAgent(this.opts.tls);
    this.clients = this.makeClients(this.internalToken);
    this.legacyUntil.clear();
  }

  private makeClients(internalToken: string | undefined): RmInternalClient[] {
    const headers: Record<string, string> = {};
    if (internalToken) headers[INTERNAL_TOKEN_HEADER] = internalToken;
    if (this.jobRunnerUrl) headers[JOB_RUNNER_HEADER] = this.jobRunnerUrl;
    return this.urls.map(
      (baseURL) =>
        new RmInternalClient({
          baseURL,
          timeoutMs: this.opts.timeoutMs,
          retry: { attempts: 1 },
          ...(this.httpsAgent ? { httpsAgent: this.httpsAgent } : {}),
          headers,
        }),
    );
  }

  /** Name this JR (its advertised URL, known once it listens) on every call from now on. */
  setJobRunnerUrl(url: string): void {
    this.jobRunnerUrl = url;
    this.clients = this.makeClients(this.internalToken);
  }

  /**
   * Send this token from now on (a reload of the token file). Calls under way
   * end with the old one; which RMs lack the report endpoint is asked again.
   */
  setInternalToken(token: string): void {
    this.internalToken = token;
    this.clients = this.makeClients(token);
    this.legacyUntil.clear();
  }

  /** The RM URL tried first. */
  get currentUrl(): string {
    return this.urls[this.current] as string;
  }

  private async call(fn: (c: RmInternalClient) => Promise<unknown>): Promise<void> {
    let last: unknown;
    for (let i = 0; i < this.clients.length; i++) {
      const idx = (this.current + i) % this.clients.length;
      try {
        await fn(this.clients[idx] as RmInternalClient);
        this.current = idx;
        return;
      } catch (err) {
        last = err;
        if (!unreachable(err)) {
          this.current = idx;
          throw err;
        }
      }
    }
    throw last;
  }

  report(batch: ReportBatch): Promise<ReportResult> {
    let result: ReportResult | undefined;
    const send = () =>
      this.call(async (c) => {
        result = await this.reportTo(c, batch);
      });
    return inChainTrace(reportChains(batch), send).then(() => result as ReportResult);
  }

  private async reportTo(c: RmInternalClient, batch: ReportBatch): Promise<ReportResult> {
    const legacyUntil = this.legacyUntil.get(c) ?? 0;
    if (legacyUntil <= Date.now()) {
      try {
        return await c.report(batch);
      } catch (err) {
        // Not an endpoint of this RM (an older version).
        if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 405)) throw err;
        this.legacyUntil.set(c, Date.now() + LEGACY_RECHECK_MS);
      }
    }
    return legacyReport(c, batch);
  }

  suspend(body: SuspendedJobChain): Promise<void> {
    return inChainTrace([body.requestId], () => this.call((c) => c.suspend(body)));
  }

  async heartbeat(body: JobRunnerHeartbeat): Promise<JobRunnerHeartbeatReply> {
    let reply: JobRunnerHeartbeatReply | undefined;
    const send = () =>
      this.call(async (c) => {
        reply = await c.heartbeat(body);
      });
    await inChainTrace([], send);
    return reply as JobRunnerHeartbeatReply;
  }
}
