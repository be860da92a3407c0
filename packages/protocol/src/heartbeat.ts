/**
 * The body of `PUT /api/v1/job-runners/heartbeat` as the RM reads it. The JR
 * reads the reply with parseHeartbeatReply (replies.ts). Hand-written rather
 * than a class-validator DTO: it is small and sent every few seconds by every JR.
 */
import { ValidationError } from './errors.js';
import { parseRfc3339 } from './time.js';
import type { HeldChain, JobRunnerHeartbeat } from './wire.js';

const bad = (why: string, field?: string) => new ValidationError(`invalid JobRunnerHeartbeat: ${why}`, field);

/** Validate a heartbeat body; `jrURL` comes back without trailing slashes. */
export function parseHeartbeat(body: unknown): JobRunnerHeartbeat {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.jrURL !== 'string' || !/^https?:\/\/[^/]+/.test(b.jrURL))
    throw bad("'jrURL' must be the JR's http(s) base URL", 'jrURL');
  const instance = typeof b.instance === 'string' ? b.instance.slice(0, 64) : '';
  const startedAt = typeof b.startedAt === 'string' ? b.startedAt : '';
  if (startedAt !== '' && !parseRfc3339(startedAt))
    throw bad("'startedAt' must be an RFC 3339 time", 'startedAt');
  if (b.requests !== undefined && !Array.isArray(b.requests))
    throw bad("'requests' must be a list", 'requests');
  const requests: HeldChain[] = [];
  for (const [i, r] of ((b.requests as unknown[]) ?? []).entries()) {
    const h = r as Record<string, unknown>;
    if (typeof h?.requestId !== 'string' || h.requestId === '')
      throw bad(`requests[${i}].requestId must be a request id`, 'requests');
    const jobs: HeldChain['jobs'] = [];
    for (const j of Array.isArray(h.jobs) ? h.jobs : []) {
      const job = j as Record<string, unknown>;
      if (typeof job?.jobId !== 'string')
        throw bad(`requests[${i}].jobs[].jobId must be a string`, 'requests');
      jobs.push({
        jobId: job.jobId,
        name: typeof job.name === 'string' ? job.name : '',
        type: typeof job.type === 'string' ? job.type : '',
        try: Number.isInteger(job.try) ? (job.try as number) : 0,
      });
    }
    requests.push({ requestId: h.requestId, jobs });
  }
  return {
    jrURL: b.jrURL.replace(/\/+$/, ''),
    instance,
    startedAt,
    draining: b.draining === true,
    requests,
  };
}
