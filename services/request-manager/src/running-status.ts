/**
 * GET /api/v1/status/running (docs/compatibility.md#running-status): ask every JR that has a
 * RUNNING request, concurrently and with a short timeout, merge their running
 * jobs sorted by start time, and attach the requests. A JR that does not
 * answer is listed under `unreachable` instead of silently missing or
 * failing the whole call.
 */
import {
  ApiError,
  type JobStatus,
  type Request,
  type RunningStatus,
  type UnreachableRunner,
  UpstreamError,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import type { JrPool } from './jr-pool.js';
import type { JrStore } from './stores/jr-store.js';
import { toWireRequest } from './stores/request-rows.js';
import type { RequestStore } from './stores/request-store.js';

export async function runningStatus(
  deps: {
    requests: RequestStore;
    jrs: JrPool;
    logger: Logger;
    /** Heartbeats: a JR silent past the lease is listed as unreachable without being called. */
    liveness?: { jrStore: JrStore; leaseMs: number };
  },
  query: { requestId?: string },
): Promise<RunningStatus> {
  const requestId = query.requestId || undefined;
  const urls = await deps.requests.runningJrUrls(requestId);
  const jobs: JobStatus[] = [];
  const unreachable: UnreachableRunner[] = [];
  const silent = new Map<string, Date>();
  if (deps.liveness && urls.length > 0) {
    const now = Date.now();
    for (const r of await deps.liveness.jrStore.list())
      if (now - r.last_seen.getTime() > deps.liveness.leaseMs) silent.set(r.jr_url, r.last_seen);
  }
  await Promise.all(
    urls.map(async (url) => {
      const lastSeen = silent.get(url);
      if (lastSeen) {
        // Known lost: the sweeper is about to fail its requests; do not wait for timeouts.
        unreachable.push({
          jrURL: url,
          error: `Job Runner lost: no heartbeat since ${lastSeen.toISOString()}`,
        });
        return;
      }
      let list: unknown;
      try {
        list = await deps.jrs.statusClient(url).running(requestId);
      } catch (err) {
        // A JR that answers "not here" for a filtered request: it just finished.
        if (requestId && err instanceof ApiError && (err.status === 404 || err.status === 500)) return;
        if (err instanceof ApiError && err.status !== undefined)
          throw badAnswer(url, `HTTP ${err.status}: ${err.message}`);
        const error = err instanceof Error ? err.message : String(err);
        deps.logger.warn('Job Runner did not answer status/running', { jrURL: url, error });
        unreachable.push({ jrURL: url, error });
        return;
      }
      if (!Array.isArray(list)) throw badAnswer(url, 'not a JSON list of running jobs');
      list.forEach((job, i) => {
        const why = jobStatusFault(job);
        if (why) throw badAnswer(url, `jobs[${i}]: ${why}`);
      });
      jobs.push(...(list as JobStatus[]));
    }),
  );
  jobs.sort((a, b) => {
    const x = BigInt(a.startedAt ?? 0);
    const y = BigInt(b.startedAt ?? 0);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const ids = [...new Set(jobs.map((j) => j.requestId))];
  const requests: Record<string, Request> = {};
  for (const row of await deps.requests.getMany(ids)) {
    const { jrURL: _omit, ...req } = toWireRequest(row);
    requests[row.request_id] = req;
  }
  const out: RunningStatus = { jobs, requests };
  if (unreachable.length > 0) out.unreachable = unreachable.sort((a, b) => (a.jrURL < b.jrURL ? -1 : 1));
  return out;
}

/** Answer of a JR that is not what the RM asked for: a 502 naming the JR. */
function badAnswer(jrURL: string, why: string): UpstreamError {
  return new UpstreamError(`Job Runner ${jrURL} answered status/running wrongly: ${why.slice(0, 300)}`);
}

/** What is wrong with one entry of a JR's running jobs (the fields the merge relies on), or undefined. */
function jobStatusFault(job: unknown): string | undefined {
  if (job === null || typeof job !== 'object' || Array.isArray(job)) return 'not an object';
  const j = job as Record<string, unknown>;
  if (typeof j.requestId !== 'string' || j.requestId === '') return "field 'requestId' must be a string";
  if (typeof j.jobId !== 'string') return "field 'jobId' must be a string";
  const at = j.startedAt;
  const nanos =
    at === undefined ||
    typeof at === 'bigint' ||
    (typeof at === 'number' && Number.isSafeInteger(at)) ||
    (typeof at === 'string' && /^\d+$/.test(at));
  return nanos ? undefined : "field 'startedAt' must be an integer (Unix nanoseconds)";
}
