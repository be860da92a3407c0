/** `status <id>`: state, progress, runtime, type, caller and required args. */
import { stateName } from '@spincycle/protocol';
import type { Context } from '../context.js';
import { ExitCode } from '../errors.js';
import { requestRuntime } from '../follow.js';
import { labelled, progressPercent } from '../output.js';
import { formatArgList } from '../request-args.js';
import { oneId } from './common.js';

export async function status(ctx: Context): Promise<number> {
  const id = oneId(ctx, 'status');
  const req = await ctx.api((rm) => rm.getRequest(id));
  if (ctx.opts.json) {
    ctx.json(req);
    return ExitCode.OK;
  }
  const lines = labelled([
    ['state', stateName(req.state)],
    ['progress', `${progressPercent(req.finishedJobs, req.totalJobs, req.state)}%`],
    ['runtime', requestRuntime(req, ctx.now())],
    ['request', req.type],
    ['caller', req.user],
    ['args', formatArgList(req.args, ['required'])],
  ]);
  for (const line of lines) ctx.out(line);
  return ExitCode.OK;
}
