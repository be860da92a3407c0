/**
 * Query parameters of GET /api/v1/requests (docs/compatibility.md#find):
 * `state` may be repeated and/or comma-separated, `arg=name=value` matches
 * exactly, `offset` works without `limit`. Every bad parameter is a 400 whose
 * message names it.
 *
 * Bounded: a page holds `limit` requests (default FIND_DEFAULT_LIMIT, at most
 * FIND_MAX_LIMIT). To page, `cursor` (a keyset on (createdAt, id), the
 * `X-Next-Cursor` of the page before) costs the same at any depth; `offset`
 * still works but the database skips that many rows first.
 */
import { parseRfc3339, stateValue, ValidationError } from '@spincycle/protocol';
import type { FindFilter } from './stores/request-store.js';

const UINT = /^\d+$/;

/** Requests per page when `limit` is absent (or 0). */
export const FIND_DEFAULT_LIMIT = 100;
/** The largest `limit`. */
export const FIND_MAX_LIMIT = 1000;

/** A 400 naming a query parameter. */
export function bad(param: string, detail: string): ValidationError {
  return new ValidationError(`invalid '${param}' parameter: ${detail}`, param);
}

/** A non-negative integer query parameter. */
export function uint(param: string, v: string): number {
  if (!UINT.test(v)) throw bad(param, `"${v}" is not a non-negative integer`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw bad(param, `"${v}" is too large`);
  return n;
}

function time(param: string, v: string): Date {
  const d = parseRfc3339(v);
  if (!d) throw bad(param, `"${v}" is not an RFC 3339 time such as 2006-01-02T15:04:05.999999Z07:00`);
  return d;
}

/** Parse the raw query string (`a=1&b=2`, no leading `?`). */
export function parseFindQuery(search: string | URLSearchParams): FindFilter {
  const q = typeof search === 'string' ? new URLSearchParams(search) : search;
  const f: FindFilter = {};
  const type = q.get('type');
  if (type !== null) f.type = type;
  const user = q.get('user');
  if (user !== null) f.user = user;

  const states = new Set<number>();
  for (const raw of q.getAll('state')) {
    for (const name of raw.split(',')) {
      const v = stateValue(name.trim());
      if (v === undefined) throw bad('state', `"${name}" is not a valid state name`);
      states.add(v);
    }
  }
  if (states.size > 0) f.states = [...states];

  for (const raw of q.getAll('arg')) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw bad('arg', `'${raw}' does not match expected format key=value`);
    // Duplicate keys: the last one wins, as in the original.
    f.args ??= {};
    f.args[raw.slice(0, eq)] = raw.slice(eq + 1);
  }

  const since = q.get('since');
  if (since !== null && since !== '') f.since = time('since', since);
  const until = q.get('until');
  if (until !== null && until !== '') f.until = time('until', until);
  const limit = q.get('limit');
  f.limit = limit !== null && limit !== '' ? uint('limit', limit) : 0;
  if (f.limit > FIND_MAX_LIMIT)
    throw bad('limit', `${f.limit} is over the maximum of ${FIND_MAX_LIMIT}; page with 'cursor'`);
  if (f.limit === 0) f.limit = FIND_DEFAULT_LIMIT;
  const offset = q.get('offset');
  if (offset !== null && offset !== '') f.offset = uint('offset', offset);
  const cursor = q.get('cursor');
  if (cursor !== null && cursor !== '') {
    if (f.offset) throw bad('cursor', "cannot be combined with 'offset'");
    f.after = decodeFindCursor(cursor);
  }
  return f;
}

/** The cursor of the page after `last` (the last request of a page): opaque to clients. */
export function encodeFindCursor(last: { createdAt: Date; id: string }): string {
  return Buffer.from(`${last.createdAt.toISOString()} ${last.id}`).toString('base64url');
}

function decodeFindCursor(cursor: string): { createdAt: Date; id: string } {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const sp = text.indexOf(' ');
  const createdAt = sp > 0 ? parseRfc3339(text.slice(0, sp)) : undefined;
  const id = text.slice(sp + 1);
  if (!createdAt || sp <= 0 || id === '')
    throw bad('cursor', `"${cursor}" is not a cursor this API gave (X-Next-Cursor)`);
  return { createdAt, id };
}

/** The link to the next page: the same query with `cursor` instead of `offset`. */
export function nextPagePath(path: string, search: string, cursor: string): string {
  const q = new URLSearchParams(search);
  q.delete('offset');
  q.set('cursor', cursor);
  return `${path}?${q.toString()}`;
}
