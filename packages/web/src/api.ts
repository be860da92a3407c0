/**
 * The RM's REST API as the dashboard uses it. The API base and an optional bearer
 * token are entered once and kept in sessionStorage (gone when the tab closes).
 */
import type { Chain, ErrorBody, JobRunnerInfo, Log, Request, RequestSpec, RunningStatus } from './wire.js';

const BASE_KEY = 'spincycle.apiBase';
const TOKEN_KEY = 'spincycle.token';

export interface Connection {
  base: string;
  token: string;
}

export function connection(): Connection {
  return {
    base: sessionStorage.getItem(BASE_KEY) || location.origin,
    token: sessionStorage.getItem(TOKEN_KEY) ?? '',
  };
}

export function saveConnection(c: Connection): void {
  sessionStorage.setItem(BASE_KEY, c.base.replace(/\/+$/, ''));
  if (c.token) sessionStorage.setItem(TOKEN_KEY, c.token);
  else sessionStorage.removeItem(TOKEN_KEY);
  window.dispatchEvent(new Event('spincycle:connection'));
}

/** An answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly allow = '',
  ) {
    super(message);
  }
}

export function url(path: string): string {
  return `${connection().base}${path}`;
}

export function authHeaders(): Record<string, string> {
  const { token } = connection();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url(path), {
      ...init,
      headers: { Accept: 'application/json', ...authHeaders(), ...(init.headers as Record<string, string>) },
    });
  } catch (err) {
    throw new ApiError(0, `the Request Manager at ${connection().base} is unreachable (${String(err)})`);
  }
  if (res.ok) return res;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as Partial<ErrorBody>;
    if (typeof body.message === 'string' && body.message) message = body.message;
  } catch {
    // not the standard error body
  }
  throw new ApiError(res.status, message, res.headers.get('Allow') ?? '');
}

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await call(path, init);
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

const enc = encodeURIComponent;
const jsonBody = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

export const api = {
  find: (query: URLSearchParams) => json<Request[]>(`/api/v1/requests?${query}`),
  request: (id: string) => json<Request>(`/api/v1/requests/${enc(id)}`),
  log: (id: string) => json<Log[]>(`/api/v1/requests/${enc(id)}/log`),
  running: (id: string) => json<RunningStatus>(`/api/v1/status/running?requestId=${enc(id)}`),
  allRunning: () => json<RunningStatus>('/api/v1/status/running'),
  requestList: () => json<RequestSpec[]>('/api/v1/request-list'),
  jobRunners: () => json<JobRunnerInfo[]>('/api/v1/job-runners'),
  create: (type: string, args: Record<string, string>) =>
    json<Request>('/api/v1/requests', jsonBody({ type, args })),
  /** A dry run answers the would-be request and chain; nothing is stored. */
  plan: (type: string, args: Record<string, string>) =>
    json<Partial<Request> & { JobChain?: Chain }>('/api/v1/requests?dryRun=true', jsonBody({ type, args })),
  stop: (id: string) => call(`/api/v1/requests/${enc(id)}/stop`, { method: 'PUT' }),
  retry: (id: string) => json<Request | null>(`/api/v1/requests/${enc(id)}/retry`, { method: 'POST' }),
};

/**
 * Whether the RM has `POST /api/v1/requests/{id}/retry`, asked without retrying:
 * a GET on a path only served for POST answers 405 with `Allow: POST`; no route is a 404.
 */
export async function hasRetry(id: string): Promise<boolean> {
  try {
    await call(`/api/v1/requests/${enc(id)}/retry`);
    return false;
  } catch (err) {
    return err instanceof ApiError && err.status === 405 && /\bPOST\b/.test(err.allow);
  }
}

/**
 * Whether the RM does dry runs, asked without creating anything: an invalid `dryRun`
 * value with an empty body. An RM that knows the parameter names it in its 400; one
 * that does not complains about the body (and stores nothing for it).
 */
export async function hasDryRun(): Promise<boolean> {
  try {
    await call('/api/v1/requests?dryRun=not-a-boolean', jsonBody({}));
    return false;
  } catch (err) {
    return err instanceof ApiError && err.status === 400 && /dryRun/i.test(err.message);
  }
}
