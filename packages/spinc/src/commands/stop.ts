/** `stop <id>`: stop a running request. */
import type { Context } from '../context.js';
import { ExitCode } from '../errors.js';
import { oneId } from './common.js';

export async function stop(ctx: Context): Promise<number> {
  const id = oneId(ctx, 'stop');
  await ctx.api((rm) => rm.stopRequest(id));
  // The stop endpoint answers with an empty body; --json shows the request as it is after the stop.
  if (ctx.opts.json) ctx.json(await ctx.api((rm) => rm.getRequest(id)));
  else ctx.out(`OK, stopped ${id}`);
  return ExitCode.OK;
}
