/** `ps [id]`: the jobs running now, with their request's progress. */
import { type RunningStatus, toNanos } from '@spincycle/protocol';
import type { Context } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { type Column, formatDuration, progressPercent, table } from '../output.js';

const PS_COLUMNS: readonly Column[] = [
  { header: 'REQUEST', max: 20 },
  { header: 'ID', max: 20 },
  { header: 'PRG', align: 'right' },
  { header: 'USER', max: 9 },
  { header: 'RUNTIME' },
  { header: 'TRY', align: 'right' },
  { header: 'JOB', max: 22 },
  { header: 'STATUS' },
];

/** Table lines for a running status; none when nothing runs. */
export function psLines(status: RunningStatus, now: Date): string[] {
  const jobs = status.jobs ?? [];
  if (jobs.length === 0) return [];
  const nowNs = BigInt(now.getTime()) * 1_000_000n;
  const rows = jobs.map((j) => {
    const req = status.requests?.[j.requestId];
    const started = toNanos(j.startedAt);
    const runtime = started > 0n ? formatDuration(Number((nowNs - started) / 1_000_000n)) : '';
    return [
      req ? req.type : 'unknown',
      j.requestId,
      `${req ? progressPercent(req.finishedJobs, req.totalJobs, req.state) : 0}%`,
      req ? req.user : '',
      runtime,
      String(j.try),
      j.name,
      (j.status ?? '').replace(/\s*\n\s*/g, ' '),
    ];
  });
  return table(PS_COLUMNS, rows);
}

export async function ps(ctx: Context): Promise<number> {
  if (ctx.args.length > 1)
    throw new UsageError('ps takes at most one argument: a request id. Usage: spinc ps [id]');
  const id = ctx.args[0];
  const status = await ctx.api((rm) => rm.runningStatus(id));
  if (ctx.opts.json) {
    ctx.json(status);
    return ExitCode.OK;
  }
  for (const line of psLines(status, ctx.now())) ctx.out(line);
  for (const u of status.unreachable ?? [])
    ctx.err(`spinc: warning: Job Runner ${u.jrURL} did not answer: ${u.error}`);
  return ExitCode.OK;
}
