/** `info <id>`: everything about one request, one field a line. */
import { stateName } from '@spincycle/protocol';
import type { Context } from '../context.js';
import { ExitCode } from '../errors.js';
import { formatDuration, formatTime, labelled, wireTime } from '../output.js';
import { formatArgList } from '../request-args.js';
import { oneId } from './common.js';

export async function info(ctx: Context): Promise<number> {
  const id = oneId(ctx, 'info');
  const req = await ctx.api((rm) => rm.getRequest(id));
  if (ctx.opts.json) {
    ctx.json(req);
    return ExitCode.OK;
  }
  const now = ctx.now();
  const when = (value: string | null | undefined) => {
    const d = wireTime(value);
    return d ? `${formatTime(d)} (${formatDuration(now.getTime() - d.getTime())} ago)` : '';
  };
  const lines = labelled([
    ['id', req.id],
    ['request', req.type],
    ['caller', req.user],
    ['created', when(req.createdAt)],
    ['started', when(req.startedAt)],
    ['finished', when(req.finishedAt)],
    ['state', stateName(req.state)],
    ['host', req.jrURL ?? ''],
    ['jobs', `${req.totalJobs} (${req.finishedJobs} complete)`],
    ['args', formatArgList(req.args, ['required', 'optional'])],
  ]);
  for (const line of lines) ctx.out(line);
  return ExitCode.OK;
}
