/** `wait <id>`: follow a request until it ends; exit 0 COMPLETE, 4 FAIL, 5 STOPPED. */
import type { Context } from '../context.js';
import { follow, reportEnd } from '../follow.js';
import { oneId } from './common.js';

export async function wait(ctx: Context): Promise<number> {
  const id = oneId(ctx, 'wait');
  const req = await follow(ctx, id, ctx.opts.json ? ctx.io.stderr : ctx.io.stdout);
  if (ctx.opts.json) ctx.json(req);
  return reportEnd(ctx, req);
}
