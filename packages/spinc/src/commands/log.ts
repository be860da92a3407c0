/** `log <id> [jobId]`: the job log, oldest first, one block per job try. */
import { type JobLog, stateName, toNanos } from '@spincycle/protocol';
import type { Context } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { followLog } from '../log-follow.js';
import { formatSeconds, formatTime, labelled, nanosTime } from '../output.js';

export function sortLogs(logs: readonly JobLog[]): JobLog[] {
  return [...logs].sort((a, b) => {
    const d = toNanos(a.finishedAt) - toNanos(b.finishedAt);
    return d < 0n ? -1 : d > 0n ? 1 : a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : a.try - b.try;
  });
}

/** Output text of a job, indented under its label when it spans lines. */
function block(text: string): string {
  const t = text.replace(/\s+$/, '');
  if (!t.includes('\n')) return t;
  return `\n${t
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}`;
}

export function formatLog(l: JobLog): string[] {
  const started = nanosTime(l.startedAt);
  const finished = nanosTime(l.finishedAt);
  const runtime = started && finished ? formatSeconds(toNanos(l.finishedAt) - toNanos(l.startedAt)) : '';
  return labelled([
    ['job id', l.jobId],
    ['job name', l.name],
    ['job type', l.type],
    ['state', stateName(l.state)],
    ['exit', String(l.exit)],
    ['error', block(l.error ?? '')],
    ['try', String(l.try)],
    ['runtime', runtime],
    ['started', started ? formatTime(started, 'utc', true) : ''],
    ['finished', finished ? formatTime(finished, 'utc', true) : ''],
    ['stdout', block(l.stdout ?? '')],
    ['stderr', block(l.stderr ?? '')],
  ]);
}

export async function log(ctx: Context): Promise<number> {
  const [id, jobId] = ctx.args;
  if (id === undefined || ctx.args.length > 2)
    throw new UsageError('log takes a request id and optionally a job id. Usage: spinc log <id> [jobId]');
  if (ctx.opts.follow) {
    if (jobId !== undefined) throw new UsageError('log -f takes only a request id. Usage: spinc log -f <id>');
    return followLog(ctx, id);
  }
  const logs =
    jobId === undefined
      ? await ctx.api((rm) => rm.getJobLogs(id))
      : [await ctx.api((rm) => rm.getJobLog(id, jobId))];
  if (ctx.opts.json) {
    ctx.json(jobId === undefined ? logs : logs[0]);
    return ExitCode.OK;
  }
  sortLogs(logs).forEach((l, i) => {
    if (i > 0) ctx.out('--');
    for (const line of formatLog(l)) ctx.out(line);
  });
  return ExitCode.OK;
}
