/** What a chain's active runners look like from outside: for the heartbeat and the running-status answer. */
import type { HeldChain, JobStatus } from '@spincycle/protocol';
import type { JobRunner } from './runner.js';

/** Jobs with an active runner and the try each is on, for the heartbeat (no calls into jobs). */
export function heldJobs(runners: Iterable<JobRunner>): HeldChain['jobs'] {
  const out: HeldChain['jobs'] = [];
  for (const runner of runners) {
    const wire = runner.node.job;
    out.push({ jobId: wire.id, name: wire.name, type: wire.type, try: runner.globalTry });
  }
  return out;
}

/** Status of every job with an active runner (`GET /api/v1/status/running`). */
export function runningStatus(requestId: string, runners: Iterable<JobRunner>): JobStatus[] {
  const out: JobStatus[] = [];
  for (const runner of runners) {
    const wire = runner.node.job;
    const status = runner.status();
    const js: JobStatus = {
      requestId,
      jobId: wire.id,
      type: wire.type,
      name: wire.name,
      startedAt: runner.startedAt,
      state: wire.state,
      try: runner.globalTry,
    };
    if (status !== '') js.status = status;
    out.push(js);
  }
  return out;
}
