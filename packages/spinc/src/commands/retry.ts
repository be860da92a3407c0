/** `retry <id> [--wait]`: run a FAIL or STOPPED request again from its failed and stopped jobs. */
import type { Context } from '../context.js';
import { ExitCode } from '../errors.js';
import { follow, reportEnd } from '../follow.js';
import { oneId } from './common.js';

export async function retry(ctx: Context): Promise<number> {
  const id = oneId(ctx, 'retry');
  const req = await ctx.api((rm) => rm.retryRequest(id));
  if (!ctx.opts.wait) {
    if (ctx.opts.json) ctx.json(req);
    else ctx.out(`OK, retrying ${id}`);
    return ExitCode.OK;
  }
  if (!ctx.opts.json) ctx.out(`OK, retrying ${id}`);
  const end = await follow(ctx, id, ctx.opts.json ? ctx.io.stderr : ctx.io.stdout);
  if (ctx.opts.json) ctx.json(end);
  return reportEnd(ctx, end);
}
