/**
 * The JR's calls to the RM over HTTP, through the protocol package's
 * RmInternalClient. `rm_client.url` may list several RMs: a call that cannot
 * reach one (network error or timeout) goes to the next, and the one that
 * answered is tried first next time. Retrying is the reporter's job, so each
 * client makes a single attempt.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import {
  ApiError,
  type FinishRequest,
  type JobLog,
  type JobRunnerHeartbeat,
  type JobRunnerHeartbeatReply,
  type RequestProgress,
  RmInternalClient,
  type SuspendedJobChain,
} from '@spincycle/protocol';
import type { TlsFiles } from '@spincycle/service-kit';
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

/** An https agent presenting the client certificate and trusting the CA, when configured. */
export function clientTlsAgent(tls: TlsFiles | undefined): HttpsAgent | undefined {
  if (!tls || (!tls.caFile && !tls.certFile)) return undefined;
  return new HttpsAgent({
    keepAlive: true,
    ...(tls.certFile && tls.keyFile
      ? { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }
      : {}),
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
  });
}

function unreachable(err: unknown): boolean {
  return err instanceof ApiError && err.status === undefined;
}

export class RmGateway implements RmSink, HeartbeatSink {
  private readonly clients: RmInternalClient[];
  private current = 0;

  constructor(
    readonly urls: readonly string[],
    opts: RmGatewayOptions,
  ) {
    if (urls.length === 0) throw new Error('RmGateway needs at least one RM URL');
    const httpsAgent = clientTlsAgent(opts.tls);
    this.clients = urls.map(
      (baseURL) =>
        new RmInternalClient({
          baseURL,
          timeoutMs: opts.timeoutMs,
          retry: { attempts: 1 },
          ...(httpsAgent ? { httpsAgent } : {}),
          ...(opts.internalToken ? { headers: { [INTERNAL_TOKEN_HEADER]: opts.internalToken } } : {}),
        }),
    );
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

  postJobLogs(entries: JobLog[]): Promise<void> {
    return this.call((c) => c.postJobLogs(entries));
  }

  finish(body: FinishRequest): Promise<void> {
    return this.call((c) => c.finish(body));
  }

  suspend(body: SuspendedJobChain): Promise<void> {
    return this.call((c) => c.suspend(body));
  }

  progress(body: RequestProgress): Promise<void> {
    return this.call((c) => c.progress(body));
  }

  async heartbeat(body: JobRunnerHeartbeat): Promise<JobRunnerHeartbeatReply> {
    let reply: JobRunnerHeartbeatReply | undefined;
    await this.call(async (c) => {
      reply = await c.heartbeat(body);
    });
    return reply as JobRunnerHeartbeatReply;
  }
}
