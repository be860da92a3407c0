/** `running <id>`: exit 0 while a request is PENDING, RUNNING or SUSPENDED, else 1; no output. */
import { State } from '@spincycle/protocol';
import type { Context } from '../context.js';
import { ExitCode, SilentExit } from '../errors.js';
import { oneId } from './common.js';

const NOT_DONE: ReadonlySet<number> = new Set([State.PENDING, State.RUNNING, State.SUSPENDED]);

export async function running(ctx: Context): Promise<number> {
  const id = oneId(ctx, 'running');
  const req = await ctx.api((rm) => rm.getRequest(id));
  if (ctx.opts.json) ctx.json(req);
  if (NOT_DONE.has(req.state)) return ExitCode.OK;
  throw new SilentExit(ExitCode.ERROR);
}
