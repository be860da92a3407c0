/** `find [filter=value ...]`: requests matching filters, newest first. */
import { type FindRequestsFilter, type Request, type RmClient, stateName } from '@spincycle/protocol';
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

/** The RM's largest page (its `limit` maximum). */
const RM_MAX_PAGE = 1000;

/**
 * Requests matching `filter`: `limit` of them (`0` = all), fetched a page of
 * at most `pageSize` at a time by following the RM's next-page cursor.
 * Also the cursor after the last one shown, when more match.
 */
export async function findAll(
  rm: RmClient,
  filter: FindRequestsFilter,
  pageSize = RM_MAX_PAGE,
): Promise<{ requests: Request[]; nextCursor?: string }> {
  const want = filter.limit ?? 0;
  const requests: Request[] = [];
  let page: FindRequestsFilter = filter;
  for (let first = true; ; first = false) {
    // All: the first call asks for all (an RM without paging answers everything), then full pages.
    const size = want === 0 ? (first ? 0 : pageSize) : Math.min(pageSize, want - requests.length);
    const got = await rm.findRequestsPage({ ...page, limit: size });
    requests.push(...got.requests);
    if (!got.nextCursor || (want !== 0 && requests.length >= want))
      return got.nextCursor ? { requests, nextCursor: got.nextCursor } : { requests };
    // Later pages go by cursor, never offset.
    page = { ...filter, offset: undefined, cursor: got.nextCursor };
  }
}

export async function find(ctx: Context): Promise<number> {
  const { filter, timezone } = parseFindFilters(ctx.args);
  ctx.debug(`find filter: ${JSON.stringify(filter)}`);
  const { requests: found, nextCursor } = await ctx.api((rm) => findAll(rm, filter));
  if (nextCursor) ctx.err(`more requests match: add cursor=${nextCursor} for the next ${filter.limit}`);
  if (ctx.opts.json) {
    ctx.json(found);
    return ExitCode.OK;
  }
  for (const line of findLines(found, timezone)) ctx.out(line);
  return ExitCode.OK;
}
