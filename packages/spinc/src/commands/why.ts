/** `why <id>`: why a request is not done, or why it failed (GET /api/v1/requests/{id}/explain). */
import type { Context } from '../context.js';
import { ExitCode } from '../errors.js';
import { oneId } from './common.js';

export async function why(ctx: Context): Promise<number> {
  const id = oneId(ctx, 'why');
  const ex = await ctx.api((rm) => rm.explainRequest(id));
  if (ctx.opts.json) {
    ctx.json(ex);
    return ExitCode.OK;
  }
  ctx.out(`request ${ex.requestId} is ${ex.state}`);
  for (const r of ex.reasons) ctx.out(`  ${r.message}`);
  if (ex.jobs.length === 0) {
    if (!ex.final) ctx.out('  no unfinished job');
    else if (ex.state === 'COMPLETE') ctx.out('  every job completed');
    return ExitCode.OK;
  }
  ctx.out(ex.final ? 'jobs that failed or were stopped:' : 'unfinished jobs:');
  for (const j of ex.jobs) {
    ctx.out(`  ${j.name} [${j.type}] ${j.state}`);
    for (const r of j.reasons) ctx.out(`    ${r.message}`);
  }
  return ExitCode.OK;
}
