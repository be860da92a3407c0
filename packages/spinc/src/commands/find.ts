/** `find [filter=value ...]`: requests matching filters, newest first. */
import { type Request, stateName } from '@spincycle/protocol';
import type { Context } from '../context.js';
import { ExitCode } from '../errors.js';
import { parseFindFilters } from '../find-filter.js';
import { type Column, formatTime, type TimeZoneMode, table, wireTime } from '../output.js';

const FIND_COLUMNS: readonly Column[] = [
  { header: 'ID', max: 20 },
  { header: 'REQUEST', max: 40 },
  { header: 'USER', max: 16 },
  { header: 'STATE' },
  { header: 'CREATED' },
  { header: 'STARTED' },
  { header: 'FINISHED' },
  { header: 'JOBS' },
];

export function findLines(requests: readonly Request[], tz: TimeZoneMode): string[] {
  if (requests.length === 0) return [];
  const t = (v: string | null | undefined) => {
    const d = wireTime(v);
    return d ? formatTime(d, tz) : 'N/A';
  };
  const rows = requests.map((r) => [
    r.id,
    r.type,
    r.user,
    stateName(r.state),
    t(r.createdAt),
    t(r.startedAt),
    t(r.finishedAt),
    `${r.finishedJobs} / ${r.totalJobs}`,
  ]);
  return table(FIND_COLUMNS, rows);
}

export async function find(ctx: Context): Promise<number> {
  const { filter, timezone } = parseFindFilters(ctx.args);
  ctx.debug(`find filter: ${JSON.stringify(filter)}`);
  const found = await ctx.api((rm) => rm.findRequests(filter));
  if (ctx.opts.json) {
    ctx.json(found);
    return ExitCode.OK;
  }
  for (const line of findLines(found, timezone)) ctx.out(line);
  return ExitCode.OK;
}
