/**
 * The one HTTP helper behind every typed client: a timeout, JSON that keeps
 * nanosecond integers exact, and bounded retries with exponential backoff on
 * network errors and 5xx answers, all through axios. A call made while a
 * trace is current (trace.ts) carries it in `traceparent`.
 */
import type { Agent as HttpsAgent } from 'node:https';
import axios, {
  type AxiosInstance,
  type AxiosProxyConfig,
  type AxiosRequestConfig,
  type AxiosResponse,
} from 'axios';
import { ApiError } from './errors.js';
import { parseJsonText, stringifyJson } from './json.js';
import { retryWithBackoff } from './retry.js';
import { outgoingTraceparent, TRACEPARENT_HEADER } from './trace.js';

export interface RetryPolicy {
  /** Total attempts including the first. */
  attempts: number;
  /** First wait in ms; doubles each time up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:32308`. */
  baseURL: string;
  /** Per-attempt deadline in ms (default 10 s): the whole answer, last byte included, within it. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Extra headers sent with every call (e.g. Authorization). */
  headers?: Record<string, string>;
  /** For TLS: client certificate, key and CA. */
  httpsAgent?: HttpsAgent;
  /** A proxy to go through. Default: none, whatever HTTP(S)_PROXY says (these calls are internal or to a known RM). */
  proxy?: AxiosProxyConfig;
  /** Largest answer taken, in bytes (default `DEFAULT_MAX_RESPONSE_BYTES`). */
  maxResponseBytes?: number;
  /** Largest body sent, in bytes (default `DEFAULT_MAX_REQUEST_BYTES`). */
  maxRequestBytes?: number;
}

/**
 * Default caps on what one call sends and takes: far above the largest
 * chains in use (a 140,000-job chain is about 40 MB of JSON, a batch of
 * chains or a report call somewhat more) and the RM's and JR's
 * `server.internal_body_limit`/`server.body_limit` (64 MiB), yet a bound on
 * the memory a broken or hostile server can make a client hold.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_REQUEST_BYTES = 256 * 1024 * 1024;

/** Response headers of a call. */
export type ResponseHeaders = AxiosResponse['headers'];

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 200, maxDelayMs: 3000 };

export interface CallOptions {
  /** Retry 5xx answers and network errors (default true). Non-idempotent calls pass false and are retried only when the connection was refused. */
  idempotent?: boolean;
  /** Override the retry policy of this call. */
  retry?: Partial<RetryPolicy>;
  query?: Record<string, string | string[] | number | undefined>;
  headers?: Record<string, string>;
}

function isRefused(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
}

function toQueryString(query: CallOptions['query']): string {
  if (!query) return '';
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
  }
  const s = qs.toString();
  return s ? `?${s}` : '';
}

/** What one attempt returns. */
interface RawResponse {
  status: number;
  text: string;
  headers: ResponseHeaders;
}

export class HttpClient {
  readonly http: AxiosInstance;
  readonly retry: RetryPolicy;
  private readonly deadlineMs: number;

  constructor(readonly options: ClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.deadlineMs = options.timeoutMs ?? 10_000;
    this.http = axios.create({
      baseURL: options.baseURL.replace(/\/+$/, ''),
      // Idle time on the socket; the deadline of the whole attempt is the AbortSignal in sendAxios.
      timeout: this.deadlineMs,
      headers: { Accept: 'application/json', ...options.headers },
      httpsAgent: options.httpsAgent,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      transformRequest: [(data: unknown) => data],
      // No redirects in this API; 0 also makes axios use node:http directly instead of follow-redirects.
      maxRedirects: 0,
      maxBodyLength: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
      maxContentLength: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      proxy: options.proxy ?? false,
    });
  }

  /** Perform a call; resolves with the response for 2xx, throws ApiError otherwise. */
  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: CallOptions = {},
  ): Promise<{ status: number; data: T; headers: ResponseHeaders }> {
    const policy = { ...this.retry, ...opts.retry };
    const idempotent = opts.idempotent ?? true;
    const url = path + toQueryString(opts.query);
    // Serialise once, before axios sees the body (axios deep-merges config
    // objects, which would copy a multi-megabyte chain on every attempt).
    const data = body === undefined ? undefined : stringifyJson(body);
    const traceparent = outgoingTraceparent();
    const headers = {
      ...(body === undefined ? undefined : { 'Content-Type': 'application/json' }),
      // The trace of the work this call is made for, a new span per call (explicit headers win).
      ...(traceparent === undefined ? undefined : { [TRACEPARENT_HEADER]: traceparent }),
      ...opts.headers,
    };
    // Whether the failure of the attempt just made may be retried.
    let retryable = false;
    return retryWithBackoff(
      async () => {
        let res: RawResponse;
        try {
          res = await this.sendAxios(method, url, data, headers);
        } catch (err) {
          const detail = (err as Error).message || String(err);
          retryable = idempotent || isRefused(err);
          throw new ApiError(`${method} ${this.options.baseURL}${path}: ${detail}`, undefined, undefined, {
            cause: err,
          });
        }
        const decoded = decode(res.text);
        if (res.status >= 200 && res.status < 300)
          return { status: res.status, data: decoded as T, headers: res.headers };
        const message = (decoded as { message?: unknown } | undefined)?.message;
        retryable = res.status >= 500 && res.status !== 501 && idempotent;
        throw new ApiError(
          typeof message === 'string'
            ? message
            : `${method} ${path}: HTTP ${res.status}${res.text ? `: ${res.text.slice(0, 200)}` : ''}`,
          res.status,
          decoded,
        );
      },
      {
        attempts: policy.attempts,
        baseDelayMs: policy.baseDelayMs,
        maxDelayMs: policy.maxDelayMs,
        shouldRetry: () => retryable,
      },
    );
  }

  private async sendAxios(
    method: string,
    url: string,
    data: string | undefined,
    headers: Record<string, string> | undefined,
  ): Promise<RawResponse> {
    // A server that trickles its answer never leaves the socket idle: this bounds the whole attempt.
    const signal = AbortSignal.timeout(this.deadlineMs);
    const config: AxiosRequestConfig = { method, url, data, headers, signal };
    try {
      const res = await this.http.request<string>(config);
      return { status: res.status, text: typeof res.data === 'string' ? res.data : '', headers: res.headers };
    } catch (err) {
      throw clearError(err, signal.aborted, this.deadlineMs);
    }
  }
}

/** Axios' errors for the deadline and the size caps, in words that name the limit. */
function clearError(err: unknown, timedOut: boolean, deadlineMs: number): unknown {
  const e = err as { message?: string; config?: AxiosRequestConfig };
  let message: string | undefined;
  if (timedOut) message = `timeout of ${deadlineMs}ms exceeded: no complete answer in that time`;
  else if (e.message?.startsWith('maxContentLength size of'))
    message = `answer larger than ${e.config?.maxContentLength} bytes (the client's limit)`;
  else if (e.message === 'Request body larger than maxBodyLength limit')
    message = `request body larger than ${e.config?.maxBodyLength} bytes (the client's limit)`;
  if (message === undefined) return err;
  return Object.assign(new Error(message, { cause: err }), { code: timedOut ? 'ETIMEDOUT' : 'ETOOLARGE' });
}

function decode(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    return parseJsonText(text);
  } catch {
    return text;
  }
}
