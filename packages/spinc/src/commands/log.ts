/** `log <id> [jobId]`: the job log, oldest first, one block per job try. */
import type { Context } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { followLog } from '../log-follow.js';
import { formatLog, sortLogs } from '../log-format.js';

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
