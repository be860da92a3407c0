/**
 * Query parameters of GET /api/v1/requests/{id}/log. Without any the answer is
 * the whole log (streamed); `limit` (at most LOG_MAX_LIMIT) makes it a page and
 * `cursor` (the `X-Next-Cursor` of the page before) starts after that page.
 */
import { bad, uint } from './find-query.js';
import type { LogKey } from './stores/job-log-store.js';

/** The largest `limit` of a job-log page. */
const LOG_MAX_LIMIT = 1000;

export interface LogPageQuery {
  /** Entries in the page; undefined: all (after `after`). */
  limit?: number;
  after?: LogKey;
}

export function parseLogQuery(search: string): LogPageQuery {
  const q = new URLSearchParams(search);
  const out: LogPageQuery = {};
  const limit = q.get('limit');
  if (limit !== null && limit !== '') {
    const n = uint('limit', limit);
    if (n < 1 || n > LOG_MAX_LIMIT) throw bad('limit', `${n} is not between 1 and ${LOG_MAX_LIMIT}`);
    out.limit = n;
  }
  const cursor = q.get('cursor');
  if (cursor !== null && cursor !== '') out.after = decodeLogCursor(cursor);
  return out;
}

/** The cursor of the page after the entry `last`: opaque to clients. */
export function encodeLogCursor(last: LogKey): string {
  return Buffer.from(JSON.stringify([last.jobId, last.try])).toString('base64url');
}

function decodeLogCursor(cursor: string): LogKey {
  let v: unknown;
  try {
    v = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString()) : undefined;
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || typeof v[0] !== 'string' || !Number.isSafeInteger(v[1]))
    throw bad('cursor', `"${cursor}" is not a cursor this API gave (X-Next-Cursor)`);
  return { jobId: v[0], try: v[1] as number };
}
