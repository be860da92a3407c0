/**
 * Webhook notifications: when a request of a type with `notify:` reaches a
 * final state, the RM that recorded it POSTs a JSON summary to each URL,
 * retried with backoff (protocol's retry helper), optionally signed
 * (`X-Spincycle-Signature: sha256=<hex HMAC-SHA256 of the body>`). Never
 * blocks the request: delivery runs in the background and its outcome is
 * kept in `notifications` (shown on GET /requests/{id}). A row still pending
 * long after its last attempt (its RM died) is taken over by another RM's sweep.
 *
 * SSRF: only http(s); the address a URL resolves to is checked when the
 * connection is made (no re-resolution in between), and private, link-local,
 * CGNAT, multicast and unspecified addresses are refused unless
 * `notify.allow_private`; loopback is allowed.
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { type Request, retryWithBackoff, stateName, stringifyJson } from '@spincycle/protocol';
import { type Logger, PeriodicTask } from '@spincycle/service-kit';
import type { RequestRow } from './db/entities.js';
import type { JobLogStore } from './stores/job-log-store.js';
import type { NotificationRow, NotificationStore } from './stores/notification-store.js';
import { toWireRequest } from './stores/request-rows.js';
import type { RequestStore } from './stores/request-store.js';

export interface NotifyOptions {
  /** HMAC-SHA256 key of the signature header; unsigned when undefined. */
  hmacSecret?: string;
  allowPrivate: boolean;
  timeoutMs: number;
  attempts: number;
  retryWaitMs: number;
  /** How often pending deliveries of dead RMs are looked for. */
  sweepIntervalMs: number;
}

export interface NotifierDeps {
  store: NotificationStore;
  requests: RequestStore;
  logs: JobLogStore;
  /** The `notify:` URLs of a request type. */
  urlsOf: (type: string) => readonly string[];
  instanceId: string;
  logger: Logger;
}

const SIGNATURE_HEADER = 'X-Spincycle-Signature';
const MAX_FAILED_JOBS = 20;
const MAX_ERROR_CHARS = 2000;

/** Refused destinations (IPv4 and IPv6), loopback excepted. */
const BLOCKED = (() => {
  const b = new BlockList();
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const)
    b.addSubnet(net, bits, 'ipv4');
  for (const [net, bits] of [
    ['::', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
  ] as const)
    b.addSubnet(net, bits, 'ipv6');
  return b;
})();

/** Whether an address may be called (loopback always; private ranges only when allowed). */
export function addressAllowed(address: string, allowPrivate: boolean): boolean {
  if (allowPrivate) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  return !BLOCKED.check(ip, family);
}

class DeliveryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retry = true,
  ) {
    super(message);
  }
}

/** The URL as shown in answers and logs: without user info or query (they may hold tokens). */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export class Notifier {
  private readonly log: Logger;
  private readonly sweeper: PeriodicTask;
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborted at stop: retries end, rows stay pending for another RM's sweep. */
  private readonly abort = new AbortController();

  constructor(
    private readonly d: NotifierDeps,
    private readonly opts: NotifyOptions,
  ) {
    this.log = d.logger.child({ component: 'notify' });
    this.sweeper = new PeriodicTask({
      intervalMs: opts.sweepIntervalMs,
      run: () => this.sweep(),
      onError: (err) => this.log.warn('notification sweep failed', { error: (err as Error).message }),
    });
  }

  /** A request reached a final state: record its deliveries, then send them in the background. */
  async onFinal(requestId: string): Promise<void> {
    const row = await this.d.requests.get(requestId);
    if (!row) return;
    const urls = this.d.urlsOf(row.type);
    if (urls.length === 0) return;
    const mine = await this.d.store.add(requestId, urls, this.d.instanceId);
    for (const url of mine) this.track(this.deliver(row, url));
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** What GET /requests/{id} shows: one entry per URL, undefined when there are none. */
  async statusOf(requestId: string): Promise<Array<Record<string, unknown>> | undefined> {
    const rows = await this.d.store.of(requestId);
    if (rows.length === 0) return undefined;
    return rows.map((r) => ({
      url: shownUrl(r.url),
      status: r.status,
      attempts: r.attempts,
      ...(r.httpStatus !== null ? { httpStatus: r.httpStatus } : {}),
      ...(r.lastError !== null ? { lastError: r.lastError } : {}),
      updatedAt: r.updatedAt.toISOString(),
    }));
  }

  /** The JSON body sent: the request's summary and its failed jobs with their last errors. */
  async payload(row: RequestRow): Promise<string> {
    const req: Request = toWireRequest(row);
    const failedJobs: Array<Record<string, unknown>> = [];
    const latest = new Map<string, { try: number; state: number }>();
    for (const t of await this.d.logs.tryStates(row.request_id)) {
      const cur = latest.get(t.jobId);
      if (!cur || t.try > cur.try) latest.set(t.jobId, t);
    }
    for (const [jobId, t] of latest) {
      if (t.state !== 4 || failedJobs.length >= MAX_FAILED_JOBS) continue;
      const e = await this.d.logs.latest(row.request_id, jobId);
      failedJobs.push({
        jobId,
        name: e?.name,
        type: e?.type,
        try: t.try,
        error: (e?.error ?? '').slice(0, MAX_ERROR_CHARS),
      });
    }
    return stringifyJson({
      event: 'request.finished',
      id: req.id,
      type: req.type,
      state: stateName(req.state),
      user: req.user,
      createdAt: req.createdAt,
      startedAt: req.startedAt,
      finishedAt: req.finishedAt,
      totalJobs: req.totalJobs,
      finishedJobs: req.finishedJobs,
      failedJobs,
    });
  }

  private async deliver(row: RequestRow, url: string): Promise<void> {
    const id = row.request_id;
    let attempts = 0;
    try {
      const body = await this.payload(row);
      const status = await retryWithBackoff(
        async () => {
          attempts++;
          try {
            return await this.post(url, body);
          } catch (err) {
            const e = err as DeliveryError;
            await this.d.store.update(id, url, {
              status: 'pending',
              attempts,
              httpStatus: e.status ?? null,
              lastError: e.message,
            });
            throw err;
          }
        },
        {
          attempts: this.opts.attempts,
          baseDelayMs: this.opts.retryWaitMs,
          maxDelayMs: Math.max(this.opts.retryWaitMs, 30_000),
          shouldRetry: (err) => (err as DeliveryError).retry !== false,
          signal: this.abort.signal,
        },
      );
      await this.d.store.update(id, url, { status: 'delivered', attempts, httpStatus: status });
      this.log.info('notification delivered', { requestId: id, url: shownUrl(url), attempts });
    } catch (err) {
      if (this.abort.signal.aborted) return; // shutting down: still pending, another RM takes it over
      const e = err as DeliveryError;
      await this.d.store
        .update(id, url, { status: 'failed', attempts, httpStatus: e.status ?? null, lastError: e.message })
        .catch(() => undefined);
      this.log.warn('notification failed', { requestId: id, url: shownUrl(url), attempts, error: e.message });
    }
  }

  /** One POST; resolves with a 2xx status, throws DeliveryError otherwise. */
  private post(url: string, body: string): Promise<number> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return Promise.reject(new DeliveryError('not a valid URL', undefined, false));
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      return Promise.reject(
        new DeliveryError(`only http(s) URLs are called, not ${u.protocol}`, undefined, false),
      );
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      'User-Agent': 'spincycle-request-manager',
    };
    if (this.opts.hmacSecret)
      headers[SIGNATURE_HEADER] =
        `sha256=${createHmac('sha256', this.opts.hmacSecret).update(body).digest('hex')}`;
    const allowPrivate = this.opts.allowPrivate;
    // The address is checked as the connection is made: what is checked is what is called.
    const lookup = (host: string, options: object, cb: (...args: unknown[]) => void) =>
      dnsLookup(host, { ...options, all: true }, (err, addrs: LookupAddress[]) => {
        if (err) return cb(err);
        const bad = addrs.find((a) => !addressAllowed(a.address, allowPrivate));
        if (bad)
          return cb(
            new DeliveryError(
              `address ${bad.address} of ${host} is in a private range (notify.allow_private is off)`,
              undefined,
              false,
            ),
          );
        const wantAll = (options as { all?: boolean }).all;
        if (wantAll) return cb(null, addrs);
        const first = addrs[0] as LookupAddress;
        cb(null, first.address, first.family);
      });
    const literal = u.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && !addressAllowed(literal, allowPrivate))
      return Promise.reject(
        new DeliveryError(
          `address ${literal} is in a private range (notify.allow_private is off)`,
          undefined,
          false,
        ),
      );
    const mod = u.protocol === 'https:' ? https : http;
    return new Promise<number>((resolve, reject) => {
      const req = mod.request(
        u,
        { method: 'POST', headers, lookup: lookup as never, timeout: this.opts.timeoutMs },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(status);
          // 4xx other than 408/429: the receiver refuses this body; trying again changes nothing.
          const retry = status >= 500 || status === 408 || status === 429;
          reject(new DeliveryError(`HTTP ${status}`, status, retry));
        },
      );
      req.on('timeout', () => req.destroy(new DeliveryError(`no answer within ${this.opts.timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof DeliveryError ? err : new DeliveryError(err.message)));
      req.end(body);
    });
  }

  /** Take over deliveries left pending by an RM that died, then send them. */
  async sweep(now = new Date()): Promise<void> {
    const stale = new Date(now.getTime() - Math.max(120_000, 2 * this.opts.timeoutMs));
    const rows: NotificationRow[] = await this.d.store.claimStale(stale, this.d.instanceId);
    for (const r of rows) {
      const row = await this.d.requests.get(r.requestId);
      if (row) this.track(this.deliver(row, r.url));
    }
  }

  start(): void {
    this.sweeper.start();
  }

  /** Wait for the deliveries under way (tests). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stop the sweep and end the deliveries under way (their rows stay pending). */
  async stop(): Promise<void> {
    await this.sweeper.stop();
    this.abort.abort(new Error('the Request Manager is shutting down'));
    await this.settle();
  }
}
