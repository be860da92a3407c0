/** No command: the Request Manager address and the requests one can start. */
import type { Context } from '../context.js';
import { ExitCode } from '../errors.js';

export async function quickHelp(ctx: Context): Promise<number> {
  if (ctx.opts.json) {
    ctx.json(await ctx.api((rm) => rm.requestList()));
    return ExitCode.OK;
  }
  ctx.out(`Request Manager address: ${ctx.opts.addr}`);
  ctx.out();
  try {
    const list = await ctx.api((rm) => rm.requestList());
    ctx.out('Requests:');
    for (const spec of list) ctx.out(`  ${spec.Name}`);
    if (list.length === 0) ctx.out('  (none: the Request Manager has no request specs)');
  } catch (err) {
    // Still show how to get going; the error (and its exit code) follows on stderr.
    ctx.out('  (cannot list requests: check --addr or SPINC_ADDR)');
    footer(ctx);
    throw err;
  }
  footer(ctx);
  return ExitCode.OK;
}

function footer(ctx: Context): void {
  ctx.out();
  ctx.out('spinc help  <request>');
  ctx.out('spinc start <request>');
}
