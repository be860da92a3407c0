/**
 * The Job Runners this RM sends chains to (`jr_client.url`, one URL or a
 * comma-separated list) and clients for any JR a request is running on.
 * New chains go round-robin; a JR that cannot be reached is skipped for the
 * next one in the list. (The HA work refines the choice.)
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { JrClient, RawJson } from '@spincycle/protocol';

/** Send a chain given as JSON text (no second serialisation). */
export function startChainJson(jr: JrClient, chainJson: string) {
  return jr.startChain(new RawJson(chainJson));
}

/** Send a suspended job chain given as JSON text. */
export function resumeChainJson(jr: JrClient, sjcJson: string) {
  return jr.resumeChain(new RawJson(sjcJson));
}

export interface JrPoolOptions {
  /** Per-attempt timeout of chain/stop calls. */
  timeoutMs: number;
  /** Timeout of status calls (`status/running` must answer even when a JR hangs). */
  statusTimeoutMs?: number;
  tls?: { certFile?: string; keyFile?: string; caFile?: string };
  /** Attempts per call (client retries with backoff on network errors and 5xx). */
  attempts?: number;
}

export class JrPool {
  private next = 0;
  private readonly clients = new Map<string, JrClient>();
  private readonly statusClients = new Map<string, JrClient>();
  private readonly agent: HttpsAgent | undefined;

  constructor(
    readonly urls: string[],
    private readonly opts: JrPoolOptions,
  ) {
    if (urls.length === 0) throw new Error('no Job Runner URL configured');
    const t = opts.tls;
    // A CA alone trusts a private CA; cert+key present a client certificate (the
    // original needed all three files). Neither: system roots for https:// URLs.
    this.agent =
      t?.caFile || (t?.certFile && t.keyFile)
        ? new HttpsAgent({
            ...(t.certFile && t.keyFile ? { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile) } : {}),
            ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
            keepAlive: true,
          })
        : undefined;
  }

  /** The JRs to try for a new chain, starting with the next one in round-robin order. */
  candidates(): JrClient[] {
    const start = this.next;
    this.next = (this.next + 1) % this.urls.length;
    return this.urls.map((_, i) => this.client(this.urls[(start + i) % this.urls.length] as string));
  }

  /** A client for the JR at `url` (where a request runs). */
  client(url: string): JrClient {
    let c = this.clients.get(url);
    if (!c) {
      c = new JrClient({
        baseURL: url,
        timeoutMs: this.opts.timeoutMs,
        httpsAgent: this.agent,
        retry: { attempts: this.opts.attempts ?? 3 },
      });
      this.clients.set(url, c);
    }
    return c;
  }

  /** A client with a short timeout and no retries, for status/running. */
  statusClient(url: string): JrClient {
    let c = this.statusClients.get(url);
    if (!c) {
      c = new JrClient({
        baseURL: url,
        timeoutMs: this.opts.statusTimeoutMs ?? 3000,
        httpsAgent: this.agent,
        retry: { attempts: 1 },
      });
      this.statusClients.set(url, c);
    }
    return c;
  }
}
