/**
 * The Job Runners this RM sends chains to (`jr_client.url`, one URL or a
 * comma-separated list) and clients for any JR a request is running on.
 * New chains go round-robin; a JR that cannot be reached is skipped for the
 * next one in the list; with heartbeats, live JRs (also those behind one load
 * balancer URL, by the URLs they advertise) with the fewest chains come first.
 */
import type { Agent as HttpsAgent } from 'node:https';
import { ApiError, JrClient, RawJson, UpstreamError } from '@spincycle/protocol';
import { clientTlsAgent, type TlsFiles } from '@spincycle/service-kit';
import { ChainBatcher } from './chain-batcher.js';
import { countingJrCalls } from './metrics.js';

/**
 * Live JRs as the pool ranks them (from their heartbeats): advertised URL → chains held, whether
 * it takes new ones, and when it was last heard of (ms since the epoch).
 */
export type LiveSnapshot = Map<
  string,
  { live: boolean; draining: boolean; chains: number; lastSeen?: number }
>;

const trimSlash = (u: string) => u.replace(/\/+$/, '');

/** Send a suspended job chain given as JSON text. */
export function resumeChainJson(jr: JrClient, sjcJson: string) {
  return jr.resumeChain(new RawJson(sjcJson));
}

/**
 * Moves a RUNNING request's record from one JR URL to another when it is still
 * on `from` (a conditional update); false when it was not.
 */
export type MoveRecord = (from: string, to: string) => Promise<boolean>;

/**
 * Offer a chain to each JR in turn (`send` resolves with the URL of the JR that
 * took it). A JR that cannot be reached or answers 5xx is skipped for the next;
 * a 4xx means the chain itself is refused, so no other JR is tried; a 409 means
 * the JR already holds it (a retried call whose first answer was lost).
 * With `move`: the request, recorded on the first candidate, is recorded on
 * each next one before that one is offered the chain (so a JR that reports
 * before its answer arrives is not refused), and on the JR that took it.
 */
export async function offerChain(
  candidates: JrClient[],
  send: (jr: JrClient) => Promise<string>,
  move?: MoveRecord,
): Promise<string> {
  const problems: string[] = [];
  let recorded = candidates[0]?.baseURL ?? '';
  const record = async (to: string) => {
    if (move && to !== recorded && (await move(recorded, to))) recorded = to;
  };
  for (const jr of candidates) {
    await record(jr.baseURL);
    let took: string;
    try {
      took = await send(jr);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return jr.baseURL;
      problems.push(`Job Runner ${jr.baseURL}: ${err instanceof Error ? err.message : String(err)}`);
      if (err instanceof ApiError && err.status !== undefined && err.status < 500) break;
      continue;
    }
    await record(took);
    return took;
  }
  throw new UpstreamError(`no Job Runner accepted the job chain: ${problems.join('; ')}`);
}

export interface JrPoolOptions {
  /** Per-attempt timeout of chain/stop calls. */
  timeoutMs: number;
  /** Timeout of status calls (`status/running` must answer even when a JR hangs). */
  statusTimeoutMs?: number;
  tls?: TlsFiles;
  /** Attempts per call (client retries with backoff on network errors and 5xx). */
  attempts?: number;
  /** Shared internal token the JRs require (sent as X-Spincycle-Internal-Token). */
  internalToken?: string;
}

export class JrPool {
  private next = 0;
  private readonly clients = new Map<string, JrClient>();
  private readonly statusClients = new Map<string, JrClient>();
  private agent: HttpsAgent | undefined;
  /** The configured URLs without a trailing slash, to tell heartbeating JRs they already name. */
  private readonly configured: ReadonlySet<string>;

  constructor(
    readonly urls: readonly string[],
    private opts: JrPoolOptions,
  ) {
    if (urls.length === 0) throw new Error('no Job Runner URL configured');
    this.configured = new Set(urls.map(trimSlash));
    this.agent = clientTlsAgent(opts.tls);
  }

  /**
   * Read the client TLS files again (`jr_client.tls.*`, a SIGHUP) and use them for new
   * connections; throws, keeping the old ones, when a file cannot be read. Calls under
   * way end on their connections; clients are made again as they are next asked for.
   */
  reloadTls(): void {
    this.agent = clientTlsAgent(this.opts.tls);
    this.clients.clear();
    this.statusClients.clear();
  }

  /**
   * Send this token from now on (a reload of the token file): clients are
   * made again as they are next asked for; calls under way end with the old one.
   */
  setInternalToken(token: string): void {
    this.opts = { ...this.opts, internalToken: token };
    this.clients.clear();
    this.statusClients.clear();
  }

  private headers(): Record<string, string> {
    return this.opts.internalToken ? { 'X-Spincycle-Internal-Token': this.opts.internalToken } : {};
  }

  /**
   * The JRs to try for a new chain, best first. With heartbeats known
   * (`useLiveness`): the configured URLs and every live JR that takes chains
   * (by the URL it advertises, so behind one load balancer URL each JR is
   * reached directly and a new one gets chains at its first heartbeat); live
   * ones first, fewest chains first (counting what this RM sent since the last
   * look), then configured URLs no JR heartbeats as its own (a load balancer,
   * a JR not heard from yet), then silent or draining ones as a last resort;
   * ties in round-robin order. Without heartbeats: the configured URLs,
   * round-robin.
   */
  candidates(): JrClient[] {
    if (this.liveness) this.refreshLiveness();
    const snap = this.live;
    const turn = this.next++;
    if (this.next >= Number.MAX_SAFE_INTEGER) this.next = 0;
    let order = [...this.urls];
    if (snap)
      for (const [u, s] of snap)
        if (s.live && !s.draining && !this.configured.has(trimSlash(u))) order.push(u);
    order = order.map((_, i) => order[(turn + i) % order.length] as string);
    if (snap) {
      const rank = (u: string) => {
        const s = snap.get(u);
        if (!s) return 1;
        return s.live && !s.draining && !this.failedSince(u, s.lastSeen) ? 0 : 2;
      };
      const load = (u: string) => (snap.get(u)?.chains ?? 0) + (this.sentSince.get(u) ?? 0);
      order = order
        .map((u, i) => ({ u, i, r: rank(u), l: load(u) }))
        .sort((a, b) => a.r - b.r || (a.r === 0 ? a.l - b.l : 0) || a.i - b.i)
        .map((x) => x.u);
      const first = order[0] as string;
      this.sentSince.set(first, (this.sentSince.get(first) ?? 0) + 1);
    }
    return order.map((u) => this.client(u));
  }

  private liveness: (() => Promise<LiveSnapshot>) | undefined;
  private live: LiveSnapshot | undefined;
  private liveAt = 0;
  private refreshing = false;
  /** Chains this RM sent to each JR since the snapshot was taken. */
  private readonly sentSince = new Map<string, number>();

  /**
   * Rank candidates by the JRs' heartbeats, read every `maxAgeMs` in the
   * background, so a pick never waits for the database and never uses a view
   * much older than that.
   */
  useLiveness(snapshot: () => Promise<LiveSnapshot>, maxAgeMs = 1000): void {
    this.liveness = snapshot;
    this.liveMaxAgeMs = maxAgeMs;
    this.refreshLiveness();
    this.liveTimer = setInterval(() => this.refreshLiveness(), maxAgeMs);
    this.liveTimer.unref();
  }

  /** Stop the background reads (the RM is closing). */
  close(): void {
    if (this.liveTimer) clearInterval(this.liveTimer);
    this.liveTimer = undefined;
    this.liveness = undefined;
  }

  private liveMaxAgeMs = 1000;
  private liveTimer: NodeJS.Timeout | undefined;

  private refreshLiveness(): void {
    if (!this.liveness || this.refreshing || Date.now() - this.liveAt < this.liveMaxAgeMs * 0.9) return;
    this.refreshing = true;
    this.liveness().then(
      (snap) => {
        this.live = snap;
        this.liveAt = Date.now();
        this.sentSince.clear();
        for (const u of [...this.failedAt.keys()])
          if (!this.failedSince(u, snap.get(u)?.lastSeen)) this.failedAt.delete(u);
        this.refreshing = false;
      },
      () => {
        // Keep the last view; try again on the next pick.
        this.liveAt = Date.now();
        this.refreshing = false;
      },
    );
  }

  /** When a new chain last could not be sent to each JR (unreachable, 5xx). */
  private readonly failedAt = new Map<string, number>();

  /**
   * A send to `url` failed after its last heartbeat: a JR killed without a
   * word stays live for a lease, and is not tried first meanwhile.
   */
  private failedSince(url: string, lastSeen: number | undefined): boolean {
    const at = this.failedAt.get(url);
    return at !== undefined && at > (lastSeen ?? 0);
  }

  private readonly batchers = new Map<string, ChainBatcher>();

  /**
   * Send a new chain (its JSON text) to `jr`; resolves with the base URL of
   * the JR that took it. Chains bound for the same JR at the same time share
   * calls (see ChainBatcher).
   */
  startChain(jr: JrClient, chainJson: string): Promise<string> {
    let b = this.batchers.get(jr.baseURL);
    // A new client (a reloaded token) gets a new batcher; the old one drains what it holds.
    if (b?.jr !== jr) {
      b = new ChainBatcher(jr);
      this.batchers.set(jr.baseURL, b);
    }
    return b.send(chainJson).catch((err: unknown) => {
      // 4xx: the chain is refused, not the JR down.
      if (!(err instanceof ApiError && err.status !== undefined && err.status < 500))
        this.failedAt.set(jr.baseURL, Date.now());
      throw err;
    });
  }

  /** A client for the JR at `url` (where a request runs). */
  client(url: string): JrClient {
    let c = this.clients.get(url);
    if (!c) {
      c = countingJrCalls(
        new JrClient({
          baseURL: url,
          timeoutMs: this.opts.timeoutMs,
          httpsAgent: this.agent,
          retry: { attempts: this.opts.attempts ?? 3 },
          headers: this.headers(),
        }),
      );
      this.clients.set(url, c);
    }
    return c;
  }

  /** A client with a short timeout and no retries, for status/running. */
  statusClient(url: string): JrClient {
    let c = this.statusClients.get(url);
    if (!c) {
      c = countingJrCalls(
        new JrClient({
          baseURL: url,
          timeoutMs: this.opts.statusTimeoutMs ?? 3000,
          httpsAgent: this.agent,
          retry: { attempts: 1 },
          headers: this.headers(),
        }),
      );
      this.statusClients.set(url, c);
    }
    return c;
  }
}
