/** `version`: spinc's version and the Request Manager's. */
import { SPINCYCLE_VERSION } from '@spincycle/protocol';
import type { Context } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';

export async function version(ctx: Context): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError('version takes no arguments');
  if (!ctx.opts.json) ctx.out(`spinc ${SPINCYCLE_VERSION}`);
  const rmVersion = (await ctx.api((rm) => rm.version())).trim();
  if (ctx.opts.json) ctx.json({ spinc: SPINCYCLE_VERSION, requestManager: rmVersion, addr: ctx.opts.addr });
  else ctx.out(`Request Manager ${rmVersion} at ${ctx.opts.addr}`);
  return ExitCode.OK;
}
